"""ruvstream itself as an engine of the comparison: a node started here."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path

from ruvstream.bench.datasets import Dataset
from ruvstream.bench.target import prepare, spawned_node
from ruvstream.bench.transports import HttpTransport, Transport

__all__ = ["RuvstreamEngine"]


class RuvstreamEngine:
    name = "ruvstream"

    def __init__(self, url: str | None = None, protocol: str = "http") -> None:
        self.url = url
        self.protocol = protocol

    def check(self) -> None:
        """Nothing beyond ruvstream itself."""

    @contextlib.contextmanager
    def start(self, workdir: Path) -> Iterator[None]:
        if self.url is not None:
            yield
            return
        with spawned_node(workdir / "ruvstream") as url:
            self.url = url
            try:
                yield
            finally:
                self.url = None

    async def load(self, data: Dataset) -> None:
        assert self.url is not None, "start the engine first"
        await prepare(self.url, "peers", data, recreate=True)

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

    async def aclose(self) -> None:
        await self.inner.aclose()
