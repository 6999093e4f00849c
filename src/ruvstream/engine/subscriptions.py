"""Standing queries: subscribers hear about every upsert that enters their results.

A subscription holds a query vector and either ``min_score`` (every record
scoring at least that) or ``k`` (the top-k). For top-k it keeps the scores of
its current result set, seeded by a search when it starts; an upsert enters
the set when the set is not full or the record beats its weakest member (or
is already a member). Matching is one matrix product per applied write and
collection, whatever the number of subscribers.

Delivery never blocks the write path: each subscription has a queue bounded
in matches and in bytes (a match's id and metadata as JSON), and a
subscriber that lets it fill is closed with a reason rather than slowing
everyone else down; what it had queued is dropped then, so a subscriber
that stopped reading holds no memory while its stream winds down.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import secrets
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import orjson

from ruvstream.core.filters import Predicate
from ruvstream.engine.collection import AppliedUpsert, Hit
from ruvstream.errors import SubscriptionNotFoundError
from ruvstream.index.base import Matrix
from ruvstream.index.exact import exact_scores, prepare

__all__ = ["Match", "Subscription", "SubscriptionHub"]

_CLOSED = object()
_SLOW = "subscriber too slow: event queue full"
_MATCH_OVERHEAD_BYTES = 64
"""A match frame's fixed part (subscription id, score, keys): what the byte bound adds
to the id and the metadata."""


@dataclass(frozen=True, slots=True)
class Match:
    subscription: str
    id: str
    score: float
    metadata: dict[str, Any]
    nbytes: int = field(default=0, compare=False)
    """Its share of the subscription's byte bound."""


@dataclass(eq=False)
class Subscription:
    id: str
    collection: str
    metric: str
    query: Matrix
    k: int | None
    min_score: float | None
    predicate: Predicate | None
    queue: asyncio.Queue[Match | object]
    _heap: list[tuple[float, int, str]] = field(default_factory=list)
    _members: set[str] = field(default_factory=set)
    _tiebreak: itertools.count[int] = field(default_factory=itertools.count)
    closed_reason: str | None = None
    followed: bool = False
    """Whether a stream has ever read it (subscriptions nobody follows expire)."""
    queued_bytes: int = 0

    @property
    def fell_behind(self) -> bool:
        """Closed because its reader let the queue fill (a slow consumer)."""
        return self.closed_reason == _SLOW

    def seed(self, hits: Sequence[Hit]) -> None:
        for hit in hits:
            self._enter(hit.id, hit.score)

    def _enter(self, record_id: str, score: float) -> None:
        assert self.k is not None
        if record_id in self._members:
            # An updated member: drop its old entry lazily by rebuilding.
            self._heap = [e for e in self._heap if e[2] != record_id]
            heapq.heapify(self._heap)
        heapq.heappush(self._heap, (score, next(self._tiebreak), record_id))
        self._members.add(record_id)
        while len(self._heap) > self.k:
            _, _, gone = heapq.heappop(self._heap)
            self._members.discard(gone)

    def offer(self, record_id: str, score: float) -> bool:
        """Whether a record with this score is in the result set after the upsert."""
        if self.min_score is not None:
            return score >= self.min_score
        assert self.k is not None
        full = len(self._heap) >= self.k
        if record_id in self._members or not full or score > self._heap[0][0]:
            self._enter(record_id, score)
            return record_id in self._members
        return False

    def forget(self, record_id: str) -> None:
        if record_id in self._members:
            self._members.discard(record_id)
            self._heap = [e for e in self._heap if e[2] != record_id]
            heapq.heapify(self._heap)

    async def next(self) -> Match | None:
        """The next match, or None once the subscription is closed."""
        item = await self.queue.get()
        if item is _CLOSED:
            self.queue.put_nowait(_CLOSED)  # later callers see the end too
            return None
        assert isinstance(item, Match)
        self.queued_bytes -= item.nbytes
        return item


class SubscriptionHub:
    def __init__(self, max_queue: int = 10_000, max_queue_bytes: int = 4 * 1024 * 1024) -> None:
        self._max_queue = max_queue
        self._max_queue_bytes = max_queue_bytes
        self._by_id: dict[str, Subscription] = {}
        self._by_collection: dict[str, list[Subscription]] = {}

    def __len__(self) -> int:
        return len(self._by_id)

    def create(
        self,
        collection: str,
        metric: str,
        query: Matrix,
        *,
        k: int | None,
        min_score: float | None,
        predicate: Predicate | None,
        seed: Sequence[Hit] = (),
    ) -> Subscription:
        sub = Subscription(
            id=secrets.token_urlsafe(12),
            collection=collection,
            metric=metric,
            query=prepare(query[None, :], metric)[0],
            k=k,
            min_score=min_score,
            predicate=predicate,
            queue=asyncio.Queue(),
        )
        if k is not None:
            sub.seed(seed)
        self._by_id[sub.id] = sub
        self._by_collection.setdefault(collection, []).append(sub)
        return sub

    def get(self, sub_id: str) -> Subscription:
        try:
            return self._by_id[sub_id]
        except KeyError:
            raise SubscriptionNotFoundError(
                f"no subscription {sub_id!r}", subscription=sub_id
            ) from None

    def close(self, sub_id: str, reason: str = "closed", *, drop_pending: bool = False) -> None:
        """End a subscription; its reader sees what was queued (unless dropped), then the end."""
        sub = self._by_id.pop(sub_id, None)
        if sub is None:
            return
        sub.closed_reason = reason
        subs = self._by_collection.get(sub.collection, [])
        if sub in subs:
            subs.remove(sub)
        if drop_pending:
            while not sub.queue.empty():
                sub.queue.get_nowait()
            sub.queued_bytes = 0
        sub.queue.put_nowait(_CLOSED)

    def close_collection(self, collection: str) -> None:
        for sub in list(self._by_collection.get(collection, [])):
            self.close(sub.id, "collection dropped")

    def close_all(self, reason: str = "shutting down") -> None:
        for sub_id in list(self._by_id):
            self.close(sub_id, reason)

    def on_upserts(self, collection: str, applied: Sequence[AppliedUpsert]) -> None:
        subs = self._by_collection.get(collection)
        if not subs or not applied:
            return
        metric = subs[0].metric
        queries = np.stack([s.query for s in subs])
        vectors = np.stack([a.vector for a in applied])  # stored form: already prepared
        scores = exact_scores(queries, vectors, metric)
        sizes: dict[int, int] = {}  # per record, measured once and only if it matches
        for row, sub in enumerate(list(subs)):
            for col, record in enumerate(applied):
                if sub.predicate is not None and not sub.predicate(record.metadata):
                    sub.forget(record.id)
                    continue
                score = float(scores[row, col])
                if sub.offer(record.id, score):
                    if col not in sizes:
                        sizes[col] = _match_bytes(record)
                    match = Match(sub.id, record.id, score, record.metadata, sizes[col])
                    self._deliver(sub, match)

    def on_deletes(self, collection: str, ids: Sequence[str]) -> None:
        for sub in self._by_collection.get(collection, []):
            for record_id in ids:
                sub.forget(record_id)

    def _deliver(self, sub: Subscription, match: Match) -> None:
        if (
            sub.queue.qsize() >= self._max_queue
            or sub.queued_bytes + match.nbytes > self._max_queue_bytes
        ):
            self.close(sub.id, _SLOW, drop_pending=True)
            return
        sub.queued_bytes += match.nbytes
        sub.queue.put_nowait(match)


def _match_bytes(record: AppliedUpsert) -> int:
    return _MATCH_OVERHEAD_BYTES + len(record.id) + len(orjson.dumps(record.metadata))
