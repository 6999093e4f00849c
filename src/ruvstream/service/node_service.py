"""``NodeService``: the node's use cases, the one layer every transport calls.

Each method takes decoded input (a collection name, ``Fields``, ids, an
idempotency key) and returns an answer body, a ``PendingSearch`` or a
``Subscription``; it raises the error tree for bad input. The order of
checks is the same for every transport: the collection first, then an
idempotency replay, then the body, then the engine.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from ruvstream.core.records import RecordData
from ruvstream.core.spec import CollectionSpec, validate_collection_name
from ruvstream.engine import Collection, Node, SearchRequest, Subscription
from ruvstream.errors import RecordNotFoundError
from ruvstream.service.answers import batch_answer, record_answer
from ruvstream.service.queries import (
    Fields,
    parse_batch,
    parse_ids,
    parse_search,
    parse_subscription,
)
from ruvstream.service.records import parse_packed_records, parse_records
from ruvstream.service.search import PendingSearch
from ruvstream.telemetry import NodeMetrics

__all__ = ["NodeService", "WriteAnswer"]


@dataclass(frozen=True, slots=True)
class WriteAnswer:
    body: dict[str, Any]
    replayed: bool = False
    """The write was applied before under the same idempotency key; this is its answer."""


class NodeService:
    def __init__(self, node: Node) -> None:
        self.node = node
        self.limits = node.settings.input
        """What one request may hold (``config.InputLimits``), checked for every transport."""

    @property
    def metrics(self) -> NodeMetrics:
        return self.node.metrics

    # -- searches ---------------------------------------------------------------
    def start_search(self, name: str, query: Fields) -> PendingSearch:
        """Check and queue one search; the answer comes from the batcher's callback."""
        collection = self.node.collection(name)
        return self._submit(name, collection, parse_search(query, collection.spec, self.limits))

    def search_request(self, name: str, query: Fields) -> SearchRequest:
        """Check a search without queueing it (a stream that starts it later)."""
        return parse_search(query, self.node.collection(name).spec, self.limits)

    def submit_search(self, name: str, request: SearchRequest) -> PendingSearch:
        return self._submit(name, self.node.collection(name), request)

    async def search(self, name: str, query: Fields) -> dict[str, Any]:
        return await self.start_search(name, query)

    async def search_batch(self, name: str, body: Fields) -> dict[str, Any]:
        collection = self.node.collection(name)
        requests = parse_batch(body, collection.spec, self.limits)
        pending = [self._submit(name, collection, r) for r in requests]
        await asyncio.gather(*(p.future for p in pending))
        return batch_answer([p.hits() for p in pending], collection.change_count)

    def _submit(self, name: str, collection: Collection, request: SearchRequest) -> PendingSearch:
        future = self.node.submit_search(name, request)
        return PendingSearch(name, collection, future, self.node.metrics)

    # -- writes -----------------------------------------------------------------
    async def create_collection(self, name: str, body: Fields, key: str = "") -> WriteAnswer:
        name = validate_collection_name(name)
        key = _scoped("create", key)
        if (replay := self._replayed(name, key)) is not None:
            return replay
        spec = CollectionSpec.from_request(body)
        return WriteAnswer(await self.node.create_collection(name, spec, key))

    async def drop_collection(self, name: str, key: str = "") -> WriteAnswer:
        key = _scoped("drop", key)
        if (replay := self._replayed(name, key)) is not None:
            return replay
        await self.node.drop_collection(name, key)
        return WriteAnswer({"deleted": True})

    async def upsert(self, name: str, body: Fields, key: str = "") -> WriteAnswer:
        """Records as fields: ``{"records": [{"id", "vector", "metadata"}, ...]}``."""
        return await self._upsert(name, key, lambda spec: parse_records(body, spec, self.limits))

    async def upsert_packed(
        self, name: str, ids: Sequence[str], rows: bytes, key: str = ""
    ) -> WriteAnswer:
        """Records as float32 little-endian rows, one per id."""
        return await self._upsert(
            name, key, lambda spec: parse_packed_records(ids, rows, spec, self.limits)
        )

    async def _upsert(
        self, name: str, key: str, decode: Callable[[CollectionSpec], list[RecordData]]
    ) -> WriteAnswer:
        collection = self.node.collection(name)
        key = _scoped("upsert", key)
        if (replay := self._replayed(name, key)) is not None:
            return replay
        records = decode(collection.spec)
        await self.node.upsert(name, records, key)
        return WriteAnswer({"upserted": len(records), "version": collection.change_count})

    async def delete(self, name: str, body: Fields, key: str = "") -> WriteAnswer:
        """Ids as fields: ``{"ids": [...]}``."""
        return await self._delete(name, key, lambda: parse_ids(body, self.limits))

    async def delete_record(self, name: str, record_id: str, key: str = "") -> WriteAnswer:
        return await self._delete(name, key, lambda: [record_id])

    async def _delete(self, name: str, key: str, ids: Callable[[], list[str]]) -> WriteAnswer:
        collection = self.node.collection(name)
        key = _scoped("delete", key)
        if (replay := self._replayed(name, key)) is not None:
            return replay
        outcome = await self.node.delete(name, ids(), key)
        return WriteAnswer({"deleted": len(outcome.deleted), "version": collection.change_count})

    def _replayed(self, name: str, key: str) -> WriteAnswer | None:
        """The answer to a write already applied under this idempotency key."""
        previous = self.node.idempotency.get(name, key)
        if previous is None:
            return None
        body = {**previous, "duplicate": True}
        if (version := self.version(name)) is not None:
            body["version"] = version
        return WriteAnswer(body, replayed=True)

    # -- reads ------------------------------------------------------------------
    def list_collections(self) -> dict[str, Any]:
        names = sorted(self.node.catalog.collections)
        return {"collections": [self.node.info(n) for n in names]}

    def collection_info(self, name: str) -> dict[str, Any]:
        return self.node.info(name)

    async def get_record(self, name: str, record_id: str) -> dict[str, Any]:
        record = await self.node.get_record(name, record_id)
        if record is None:
            raise RecordNotFoundError(
                f"no record {record_id!r} in {name!r}", collection=name, id=record_id
            )
        return record_answer(record)

    def version(self, name: str) -> int | None:
        """The collection's change count, or None once it is gone."""
        collection = self.node.catalog.collections.get(name)
        return None if collection is None else collection.change_count

    # -- standing queries -------------------------------------------------------
    async def subscribe(self, name: str, query: Fields) -> Subscription:
        collection = self.node.collection(name)
        request, min_score = parse_subscription(query, collection.spec, self.limits)
        return await self.node.subscribe(name, request, min_score)

    def subscription(self, sub_id: str) -> Subscription:
        """The open subscription ``sub_id``; raises ``SubscriptionNotFoundError``."""
        return self.node.subscriptions.get(sub_id)

    def unsubscribe(self, sub_id: str, reason: str) -> None:
        self.node.subscriptions.close(sub_id, reason)


def _scoped(op: str, key: str) -> str:
    """An idempotency key as stored: per kind of write, so a key reused for another
    kind (a PUT after a DELETE) is a new write, never the other's answer replayed."""
    return f"{op}:{key}" if key else ""
