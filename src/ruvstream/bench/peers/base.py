"""What a peer engine adapter provides to the comparison.

An engine first says whether it can run here (``check`` raises
``MissingExtraError``, before the comparison does any work), then is started
on loopback (``start`` is a context manager yielding nothing; the engine
keeps its own endpoint), loaded with the dataset's base
vectors using the same HNSW build parameters as ruvstream's defaults
(M 16, ef_construction 200, cosine), and searched through a ``Transport``
with a given ``ef`` so every engine can be tuned to the same recall.
"""

from __future__ import annotations

from contextlib import AbstractContextManager
from pathlib import Path
from typing import Protocol

from ruvstream.bench.datasets import Dataset
from ruvstream.bench.transports import Transport

__all__ = [
    "EF_CONSTRUCTION",
    "EF_LADDER",
    "HNSW_M",
    "Engine",
    "MissingExtraError",
    "StreamingEngine",
]

HNSW_M = 16
EF_CONSTRUCTION = 200
EF_LADDER = (10, 16, 24, 32, 48, 64, 96, 128, 192, 256, 384, 512)


class MissingExtraError(RuntimeError):
    """The engine's optional packages are not installed; names the extra to add."""


class Engine(Protocol):
    name: str

    def check(self) -> None: ...

    def start(self, workdir: Path) -> AbstractContextManager[None]: ...

    async def load(self, data: Dataset) -> None: ...

    async def transport(self, ef: int) -> Transport: ...


class StreamingEngine(Engine, Protocol):
    """An engine the streaming-ingest case can drive: it starts empty and is written live.

    ``server_pid`` is the root of the engine's process tree once started (None
    for an engine started elsewhere), for pinning and CPU accounting.
    """

    server_pid: int | None

    async def create(self, dim: int, ef: int) -> None: ...
