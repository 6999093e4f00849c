"""The blocking ``Client``: the ``AsyncClient`` run on a private event loop.

No protocol code lives here: each method hands the matching ``AsyncClient``
coroutine to the client's ``LoopThread`` and waits, so the sync and async
clients cannot drift apart. Streams become blocking iterators.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any

from ruvstream.core.retry import RetryBudget, RetryPolicy

from ._loop import LoopThread
from ._transport import Timeouts
from .async_client import AsyncClient, Progress
from .cache import CacheStats, ResultCache
from .models import BulkResult, CollectionInfo, Hit, Match, Query, Record, SearchResult, WriteResult
from .protocol import RecordLike
from .session import AsyncSession
from .subscription import Subscription

__all__ = ["Client", "Session", "SyncSubscription"]


class Client:
    """Blocking client; takes the same options as ``AsyncClient``. Thread-safe."""

    def __init__(
        self,
        url: str = "http://127.0.0.1:8470",
        *,
        timeouts: Timeouts | float | None = None,
        retry: RetryPolicy | None = None,
        budget: RetryBudget | None = None,
        cache: ResultCache | bool = True,
        **options: Any,
    ) -> None:
        self._loop = LoopThread()

        async def make() -> AsyncClient:
            return AsyncClient(
                url, timeouts=timeouts, retry=retry, budget=budget, cache=cache, **options
            )

        self.aio = self._loop.run(make())

    @property
    def cache(self) -> ResultCache | None:
        return self.aio.cache

    @property
    def budget(self) -> RetryBudget:
        return self.aio.budget

    def cache_stats(self) -> CacheStats | None:
        return self.aio.cache_stats()

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def close(self) -> None:
        if self._loop.loop.is_running():
            self._loop.run(self.aio.aclose())
        self._loop.close()

    def create_collection(
        self, name: str, dim: int, metric: str = "cosine", **kw: Any
    ) -> CollectionInfo:
        return self._loop.run(self.aio.create_collection(name, dim, metric, **kw))

    def get_collection(self, name: str, **kw: Any) -> CollectionInfo:
        return self._loop.run(self.aio.get_collection(name, **kw))

    def list_collections(self) -> list[CollectionInfo]:
        return self._loop.run(self.aio.list_collections())

    def delete_collection(self, name: str, **kw: Any) -> bool:
        return self._loop.run(self.aio.delete_collection(name, **kw))

    def health(self) -> dict[str, Any]:
        return self._loop.run(self.aio.health())

    def upsert(self, collection: str, records: Iterable[RecordLike], **kw: Any) -> WriteResult:
        return self._loop.run(self.aio.upsert(collection, list(records), **kw))

    def get(self, collection: str, record_id: str) -> Record:
        return self._loop.run(self.aio.get(collection, record_id))

    def delete(self, collection: str, ids: str | Sequence[str], **kw: Any) -> WriteResult:
        return self._loop.run(self.aio.delete(collection, ids, **kw))

    def upsert_bulk(
        self,
        collection: str,
        records: Iterable[RecordLike],
        *,
        chunk_size: int = 1000,
        progress: Progress | None = None,
        total: int | None = None,
    ) -> BulkResult:
        return self._loop.run(
            self.aio.upsert_bulk(
                collection, records, chunk_size=chunk_size, progress=progress, total=total
            )
        )

    def search(self, collection: str, vector: Any, **kw: Any) -> SearchResult:
        return self._loop.run(self.aio.search(collection, vector, **kw))

    def search_batch(
        self, collection: str, queries: Sequence[Query | Mapping[str, Any]]
    ) -> list[SearchResult]:
        return self._loop.run(self.aio.search_batch(collection, queries))

    def search_stream(self, collection: str, vector: Any, **kw: Any) -> Iterator[Hit]:
        return self._loop.iterate(self.aio.search_stream(collection, vector, **kw))

    def session(self, **options: Any) -> Session:
        return Session(self._loop, self.aio.session(**options))


class Session:
    """Blocking face of an ``AsyncSession``; use as a context manager."""

    def __init__(self, loop: LoopThread, session: AsyncSession) -> None:
        self._loop = loop
        self.aio = session

    @property
    def reconnects(self) -> int:
        return self.aio.reconnects

    def __enter__(self) -> Session:
        self._loop.run(self.aio.connect())
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def close(self) -> None:
        self._loop.run(self.aio.close())

    def search(self, collection: str, vector: Any, **kw: Any) -> SearchResult:
        return self._loop.run(self.aio.search(collection, vector, **kw))

    def upsert(self, collection: str, records: Iterable[RecordLike], **kw: Any) -> WriteResult:
        return self._loop.run(self.aio.upsert(collection, list(records), **kw))

    def delete(self, collection: str, ids: Iterable[str], **kw: Any) -> WriteResult:
        return self._loop.run(self.aio.delete(collection, list(ids), **kw))

    def ping(self) -> None:
        self._loop.run(self.aio.ping())

    def subscribe(self, collection: str, vector: Any, **kw: Any) -> SyncSubscription:
        subscription = self._loop.run(self.aio.subscribe(collection, vector, **kw))
        return SyncSubscription(self._loop, subscription)


class SyncSubscription:
    """Blocking iterator over a standing query's matches."""

    def __init__(self, loop: LoopThread, subscription: Subscription) -> None:
        self._loop = loop
        self.aio = subscription

    @property
    def id(self) -> str | None:
        return self.aio.id

    @property
    def resumed(self) -> int:
        return self.aio.resumed

    def __iter__(self) -> Iterator[Match]:
        while (match := self.next()) is not None:
            yield match

    def next(self, within: float | None = None) -> Match | None:
        return self._loop.run(self.aio.next(within))

    def wait_active(self, within: float | None = None) -> None:
        self._loop.run(self.aio.wait_active(within))

    def close(self) -> None:
        self._loop.run(self.aio.close())

    def __enter__(self) -> SyncSubscription:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()
