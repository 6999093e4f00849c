"""ruvstream itself as an engine of the comparison: a node started here."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import numpy.typing as npt

from ruvstream.bench.datasets import Dataset
from ruvstream.bench.peers.bare import ruvstream_run
from ruvstream.bench.target import prepare
from ruvstream.bench.transports import HttpTransport, Transport
from ruvstream.devstack import running_node

__all__ = ["RuvstreamEngine"]


class RuvstreamEngine:
    name = "ruvstream"

    def __init__(
        self, url: str | None = None, protocol: str = "http", server_pid: int | None = None
    ) -> None:
        self.url = url
        self.protocol = protocol
        self.server_pid = server_pid

    def check(self) -> None:
        """Nothing beyond ruvstream itself."""

    @contextlib.contextmanager
    def start(self, workdir: Path) -> Iterator[None]:
        if self.url is not None:
            yield
            return
        with running_node(workdir / "ruvstream") as node:
            self.url, self.server_pid = node.url, node.pid
            try:
                yield
            finally:
                self.url = self.server_pid = None

    async def load(self, data: Dataset) -> None:
        assert self.url is not None, "start the engine first"
        await prepare(self.url, "peers", data, recreate=True)

    async def create(self, dim: int, ef: int) -> None:
        """An empty cosine collection for the streaming-ingest case (ef goes per search)."""
        assert self.url is not None, "start the engine first"
        async with httpx.AsyncClient(base_url=self.url, timeout=60) as client:
            await client.delete("/v1/collections/peers")
            created = await client.put("/v1/collections/peers", json={"dim": dim})
            created.raise_for_status()

    async def bare(
        self, ef: int, queries: npt.NDArray[np.float32], k: int, clients: int, seconds: float
    ) -> dict[str, Any]:
        """Closed loop through bare asyncio HTTP/1.1 clients (``peers.bare``)."""
        assert self.url is not None, "start the engine first"
        return await ruvstream_run(self.url, "peers", queries, k, ef, clients, seconds)

    async def transport(self, ef: int) -> Transport:
        assert self.url is not None, "start the engine first"
        return _Named(HttpTransport(self.url, protocol=self.protocol, ef=ef))


class _Named:
    """Searches the comparison's collection whatever name the generator passes."""

    def __init__(self, inner: HttpTransport) -> None:
        self.inner = inner
        self.protocol = inner.protocol

    async def search(self, collection: str, vector: list[float], k: int) -> list[str]:
        return await self.inner.search("peers", vector, k)

    async def upsert(self, collection: str, rid: str, vector: list[float]) -> None:
        await self.inner.upsert("peers", rid, vector)

    async def upsert_many(
        self, collection: str, ids: list[str], vectors: list[list[float]]
    ) -> None:
        await self.inner.upsert_many("peers", ids, vectors)

    async def aclose(self) -> None:
        await self.inner.aclose()
