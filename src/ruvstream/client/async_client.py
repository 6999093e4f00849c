"""AsyncClient: the one implementation of the node's HTTP protocol.

The sync ``Client`` runs this class on a private event loop, so both behave
identically. Writes carry an ``Idempotency-Key`` (generated per call unless
given), which makes them safe to retry: the node applies a key once and
answers repeats with the first answer. The result cache drops a collection's
entries after this client's own writes and whenever an answer shows a
different collection version.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import quote

from ruvstream.core.retry import RetryBudget, RetryPolicy
from ruvstream.errors import CollectionExistsError

from ._transport import HttpTransport, Timeouts, sse_events
from .cache import CacheStats, ResultCache
from .errors import TransportError
from .models import BulkResult, CollectionInfo, Hit, Query, Record, SearchResult, WriteResult
from .protocol import (
    RecordLike,
    cache_key,
    decode_error,
    query_body,
    record_json,
    search_body,
)
from .session import AsyncSession
from .tls import client_ssl_context

__all__ = ["AsyncClient", "Progress"]

Progress = Callable[[int, int | None], None]
"""Called after each chunk with (records done, total or None when unknown)."""

MAX_BATCH = 1000


def _path(collection: str, *rest: str) -> str:
    return "/".join(["/v1/collections", quote(collection, safe=""), *rest])


class AsyncClient:
    """A pooled, retrying, caching client for one node (or a router in front of nodes)."""

    def __init__(
        self,
        url: str = "http://127.0.0.1:8470",
        *,
        timeouts: Timeouts | float | None = None,
        retry: RetryPolicy | None = None,
        budget: RetryBudget | None = None,
        cache: ResultCache | bool = True,
        max_connections: int = 100,
        max_keepalive: int = 20,
        http2: bool = True,
        auto_idempotency: bool = True,
        headers: Mapping[str, str] | None = None,
        api_key: str | None = None,
        ca_file: str | Path | None = None,
        verify: bool = True,
    ) -> None:
        """``api_key`` goes out as ``Authorization: Bearer``; https:// certificates are
        verified against the certifi bundle plus ``ca_file`` (``verify=False``: not at all)."""
        self.url = url.rstrip("/")
        self.api_key = api_key
        # Built only for TLS: loading the CA bundle costs milliseconds per client.
        tls = self.url.startswith("https://")
        self.ssl = client_ssl_context(verify, ca_file) if tls else None
        if api_key is not None:
            headers = {**(headers or {}), "Authorization": f"Bearer {api_key}"}
        self.timeouts = Timeouts.coerce(timeouts, Timeouts())
        self.retry = retry or RetryPolicy()
        self.budget = budget if budget is not None else RetryBudget()
        self.cache: ResultCache | None = (
            cache if isinstance(cache, ResultCache) else (ResultCache() if cache else None)
        )
        self.auto_idempotency = auto_idempotency
        self.transport = HttpTransport(
            self.url,
            timeouts=self.timeouts,
            retry=self.retry,
            budget=self.budget,
            max_connections=max_connections,
            max_keepalive=max_keepalive,
            http2=http2,
            headers=headers,
            verify=self.ssl or True,
        )

    async def __aenter__(self) -> AsyncClient:
        return self

    async def __aexit__(self, *_: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self.transport.aclose()

    def cache_stats(self) -> CacheStats | None:
        return None if self.cache is None else self.cache.stats()

    # -- plumbing -------------------------------------------------------------
    def _key_headers(self, key: str | None) -> tuple[dict[str, str], bool]:
        if key is None and self.auto_idempotency:
            key = uuid.uuid4().hex
        return ({"Idempotency-Key": key} if key else {}), bool(key)

    async def _write(
        self, method: str, path: str, collection: str, body: Any, key: str | None, timeouts: Any
    ) -> Any:
        headers, keyed = self._key_headers(key)
        try:
            return await self.transport.request(
                method,
                path,
                body=body,
                headers=headers,
                keyed=keyed,
                timeouts=Timeouts.coerce(timeouts, self.timeouts),
            )
        finally:
            if self.cache is not None:
                self.cache.invalidate(collection)

    def _observe(self, collection: str, version: Any) -> None:
        if self.cache is not None and version is not None:
            self.cache.observe(collection, int(version))

    # -- collections ------------------------------------------------------------
    async def create_collection(
        self,
        name: str,
        dim: int,
        metric: str = "cosine",
        *,
        m: int | None = None,
        ef_construction: int | None = None,
        ef_search: int | None = None,
        exist_ok: bool = False,
        idempotency_key: str | None = None,
        timeouts: Timeouts | float | None = None,
    ) -> CollectionInfo:
        body: dict[str, Any] = {"dim": dim, "metric": metric}
        extra = {"m": m, "ef_construction": ef_construction, "ef_search": ef_search}
        body.update({k: v for k, v in extra.items() if v is not None})
        try:
            answer = await self._write("PUT", _path(name), name, body, idempotency_key, timeouts)
        except CollectionExistsError:
            if not exist_ok:
                raise
            return await self.get_collection(name, timeouts=timeouts)
        if "dim" not in answer:
            return await self.get_collection(name, timeouts=timeouts)
        return CollectionInfo.from_json(answer)

    async def get_collection(
        self, name: str, *, timeouts: Timeouts | float | None = None
    ) -> CollectionInfo:
        answer = await self.transport.request(
            "GET", _path(name), timeouts=Timeouts.coerce(timeouts, self.timeouts)
        )
        self._observe(name, answer.get("version"))
        return CollectionInfo.from_json(answer)

    async def list_collections(self) -> list[CollectionInfo]:
        answer = await self.transport.request("GET", "/v1/collections")
        infos = [CollectionInfo.from_json(c) for c in answer.get("collections", [])]
        for info in infos:
            self._observe(info.name, info.version)
        return infos

    async def delete_collection(self, name: str, *, idempotency_key: str | None = None) -> bool:
        answer = await self._write("DELETE", _path(name), name, None, idempotency_key, None)
        return bool(answer.get("deleted", False))

    async def health(self) -> dict[str, Any]:
        answer: dict[str, Any] = await self.transport.request("GET", "/health")
        return answer

    # -- records --------------------------------------------------------------------
    async def upsert(
        self,
        collection: str,
        records: Iterable[RecordLike],
        *,
        idempotency_key: str | None = None,
        timeouts: Timeouts | float | None = None,
    ) -> WriteResult:
        body = {"records": [record_json(r) for r in records]}
        path = _path(collection, "records")
        answer = await self._write("POST", path, collection, body, idempotency_key, timeouts)
        return WriteResult.from_json(answer)

    async def get(self, collection: str, record_id: str) -> Record:
        answer = await self.transport.request(
            "GET", _path(collection, "records", quote(record_id, safe=""))
        )
        return Record.from_json(answer)

    async def delete(
        self,
        collection: str,
        ids: str | Sequence[str],
        *,
        idempotency_key: str | None = None,
        timeouts: Timeouts | float | None = None,
    ) -> WriteResult:
        id_list = [ids] if isinstance(ids, str) else list(ids)
        path = _path(collection, "records", "delete")
        body = {"ids": id_list}
        answer = await self._write("POST", path, collection, body, idempotency_key, timeouts)
        return WriteResult.from_json(answer)

    async def upsert_bulk(
        self,
        collection: str,
        records: Iterable[RecordLike],
        *,
        chunk_size: int = 1000,
        progress: Progress | None = None,
        total: int | None = None,
    ) -> BulkResult:
        """Upsert in chunks, each its own keyed (so retry-safe) write."""
        if total is None and isinstance(records, Sequence):
            total = len(records)
        done, chunks, version = 0, 0, None
        chunk: list[RecordLike] = []

        async def flush() -> None:
            nonlocal done, chunks, version
            result = await self.upsert(collection, chunk)
            done, chunks, version = done + result.count, chunks + 1, result.version
            chunk.clear()
            if progress is not None:
                progress(done, total)

        for record in records:
            chunk.append(record)
            if len(chunk) >= chunk_size:
                await flush()
        if chunk:
            await flush()
        return BulkResult(upserted=done, chunks=chunks, version=version)

    # -- search -------------------------------------------------------------------
    async def search(
        self,
        collection: str,
        vector: Any,
        *,
        k: int = 10,
        filter: Mapping[str, Any] | None = None,
        ef: int | None = None,
        include_vectors: bool = False,
        use_cache: bool = True,
        timeouts: Timeouts | float | None = None,
    ) -> SearchResult:
        body = search_body(vector, k, filter, ef, include_vectors)
        cache = self.cache if use_cache else None
        key = cache_key(collection, body) if cache is not None else None
        if cache is not None and (hit := cache.get(key)) is not None:
            cached: SearchResult = hit
            return SearchResult(cached.hits, cached.version, cached=True)
        answer = await self.transport.request(
            "POST",
            _path(collection, "search"),
            body=body,
            timeouts=Timeouts.coerce(timeouts, self.timeouts),
        )
        result = SearchResult.from_json(answer)
        if cache is not None:
            cache.put(key, collection, result.version, result)
        else:
            self._observe(collection, result.version)
        return result

    async def search_batch(
        self, collection: str, queries: Sequence[Query | Mapping[str, Any]]
    ) -> list[SearchResult]:
        """Many searches in few round trips (chunks of at most 1,000 queries)."""
        results: list[SearchResult] = []
        for start in range(0, len(queries), MAX_BATCH):
            body = {"queries": [query_body(q) for q in queries[start : start + MAX_BATCH]]}
            answer = await self.transport.request(
                "POST", _path(collection, "search", "batch"), body=body
            )
            version = answer.get("version")
            self._observe(collection, version)
            results += [SearchResult.from_json(r, version) for r in answer.get("results", [])]
        return results

    async def search_stream(
        self,
        collection: str,
        vector: Any,
        *,
        k: int = 10,
        filter: Mapping[str, Any] | None = None,
        ef: int | None = None,
        timeouts: Timeouts | float | None = None,
    ) -> AsyncIterator[Hit]:
        """Hits as the node streams them (SSE), best first."""
        async with self.transport.stream(
            "POST",
            _path(collection, "search"),
            body=search_body(vector, k, filter, ef),
            headers={"accept": "text/event-stream"},
            timeouts=Timeouts.coerce(timeouts, self.timeouts),
        ) as response:
            async for event in sse_events(response):
                if event.event == "hit":
                    yield Hit.from_json(event.json())
                elif event.event == "error":
                    raise decode_error(500, b'{"error":' + event.data.encode() + b"}", None)
                elif event.event == "done":
                    self._observe(collection, event.json().get("version"))
                    return
        raise TransportError("the search stream ended before its done event")

    # -- streaming sessions --------------------------------------------------------
    def session(self, **options: Any) -> AsyncSession:
        """A WebSocket session to the same node (see ``AsyncSession`` for options)."""
        ws_url = self.url.replace("http://", "ws://", 1).replace("https://", "wss://", 1)
        options.setdefault("cache", self.cache)
        options.setdefault("api_key", self.api_key)
        if self.ssl is not None:
            options.setdefault("ssl", self.ssl)
        return AsyncSession(ws_url + "/v1/ws", **options)
