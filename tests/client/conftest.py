"""Fixtures: one real node for the module, and the same tests over both clients.

``api`` is the client under test seen through one async face: the
``AsyncClient`` itself, or the blocking ``Client`` driven from worker threads
(``AsyncFacade``), so every test case runs unchanged against both.
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from ruvstream.client import AsyncClient, Client, SyncSubscription
from ruvstream.testing import NodeProcess, running_node

GENEROUS = ("--max-connections", "2000", "--max-inflight-per-conn", "2000")
_names = itertools.count()

_PASSTHROUGH = {"cache", "budget", "cache_stats", "reconnects", "id", "resumed", "aio", "url"}


async def _thread_iter(iterator: Iterator[Any]) -> AsyncIterator[Any]:
    done = object()
    while (item := await asyncio.to_thread(next, iterator, done)) is not done:
        yield item


class AsyncFacade:
    """The blocking client (or session, or subscription) as awaitables."""

    def __init__(self, target: Any) -> None:
        self._target = target

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self._target, name)
        if name in _PASSTHROUGH or not callable(attr):
            return attr
        if name == "session":
            return lambda **kw: AsyncFacade(attr(**kw))
        if name == "search_stream":
            return lambda *a, **kw: _thread_iter(attr(*a, **kw))

        async def call(*args: Any, **kwargs: Any) -> Any:
            result = await asyncio.to_thread(attr, *args, **kwargs)
            return AsyncFacade(result) if isinstance(result, SyncSubscription) else result

        return call

    async def __aenter__(self) -> AsyncFacade:
        await asyncio.to_thread(self._target.__enter__)
        return self

    async def __aexit__(self, *exc: object) -> None:
        await asyncio.to_thread(self._target.__exit__, *exc)

    def __aiter__(self) -> AsyncIterator[Any]:
        return _thread_iter(iter(self._target))


@pytest.fixture(scope="module")
def node(tmp_path_factory: pytest.TempPathFactory) -> Iterator[NodeProcess]:
    with running_node(tmp_path_factory.mktemp("client-node"), args=GENEROUS) as process:
        yield process


@pytest.fixture
def name() -> str:
    """A fresh collection name per test, so tests share one node safely."""
    return f"c{next(_names)}"


ClientFactory = Callable[..., Any]


@pytest.fixture(params=["async", "sync"])
async def make_api(request: pytest.FixtureRequest) -> AsyncIterator[ClientFactory]:
    """Build clients of the flavour under test: ``make_api(url, **options)``."""
    opened: list[Any] = []

    def make(url: str, **options: Any) -> Any:
        if request.param == "async":
            client: Any = AsyncClient(url, **options)
            opened.append(client)
            return client
        sync = Client(url, **options)
        opened.append(sync)
        return AsyncFacade(sync)

    yield make
    for client in opened:
        if isinstance(client, AsyncClient):
            await client.aclose()
        else:
            await asyncio.to_thread(client.close)


@pytest.fixture
async def api(make_api: ClientFactory, node: NodeProcess) -> Any:
    return make_api(node.url)


@pytest.fixture
def fresh_node(tmp_path: Path) -> Iterator[NodeProcess]:
    with running_node(tmp_path / "node") as process:
        yield process
