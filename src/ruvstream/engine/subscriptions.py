"""Standing queries: subscribers hear about every upsert that enters their results.

The hub owns every subscription and one ``CollectionMatcher`` per collection
(subscription_matcher.py states what is pushed). Matching runs on one
worker thread of its own, off the event loop (numpy releases the GIL), in
the order the writes were applied, so each subscription's frames leave in
write order; the write pipeline awaits a write's matching before it replies,
so a write's matches are queued before its answer.

Subscriptions are made and closed on the event loop, which never waits for
a match in progress: it queues the change, and the worker makes it before
its next match.

Delivery never blocks the write path: each subscription has a bounded queue,
and a subscriber that lets it fill is closed with a reason rather than
slowing everyone else down.

Delivery never blocks the write path: each subscription has a queue bounded
in matches and in bytes (a match's id and metadata as JSON), and a
subscriber that lets it fill is closed with a reason rather than slowing
everyone else down; what it had queued is dropped then, so a subscriber
that stopped reading holds no memory while its stream winds down.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from typing import TypeVar

import orjson

from ruvstream.core.filters import Filter
from ruvstream.engine.collection import AppliedUpsert, Hit
from ruvstream.engine.standing_query import CLOSED, SLOW, Match, MatchListener, Subscription
from ruvstream.engine.subscription_matcher import CollectionMatcher, Delivery, Refill
from ruvstream.errors import SubscriptionNotFoundError
from ruvstream.index.base import Matrix
from ruvstream.index.exact import prepare

__all__ = ["Match", "Refill", "Subscription", "SubscriptionHub"]

log = logging.getLogger(__name__)
_T = TypeVar("_T")
_MATCH_OVERHEAD_BYTES = 64
"""A match frame's fixed part (subscription id, score, keys): what the byte bound adds
to the id and the metadata."""


class SubscriptionHub:
    def __init__(
        self,
        max_queue: int = 10_000,
        max_queue_bytes: int = 4 * 1024 * 1024,
        refill: Refill | None = None,
    ) -> None:
        self._max_queue = max_queue
        self._max_queue_bytes = max_queue_bytes
        self._refill = refill
        self._by_id: dict[str, Subscription] = {}
        self._by_collection: dict[str, dict[str, Subscription]] = {}
        self._matchers: dict[str, CollectionMatcher] = {}
        self._changes: list[tuple[bool, Subscription]] = []
        """(added?, subscription) made on the loop, not yet in a matcher."""
        self._changes_lock = threading.Lock()
        self._match_lock = threading.Lock()
        self._worker: ThreadPoolExecutor | None = None

    def __len__(self) -> int:
        return len(self._by_id)

    def set_refill(self, refill: Refill) -> None:
        self._refill = refill

    def create(
        self,
        collection: str,
        metric: str,
        query: Matrix,
        *,
        k: int | None,
        min_score: float | None,
        predicate: Filter | None,
        filter_key: str | None = None,
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
            filter_key=filter_key,
        )
        if k is not None:
            sub.members = {hit.id: hit.score for hit in seed[:k]}
        self._by_id[sub.id] = sub
        self._by_collection.setdefault(collection, {})[sub.id] = sub
        self._change(True, sub)
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
        subs = self._by_collection.get(sub.collection, {})
        subs.pop(sub_id, None)
        if not subs:
            self._by_collection.pop(sub.collection, None)
        if drop_pending:
            while not sub.queue.empty():
                sub.queue.get_nowait()
            sub.queued_bytes = 0
        sub.queue.put_nowait(CLOSED)
        self._change(False, sub)

    def close_collection(self, collection: str) -> None:
        for sub_id in list(self._by_collection.get(collection, {})):
            self.close(sub_id, "collection dropped")

    def close_all(self, reason: str = "shutting down") -> None:
        for sub_id in list(self._by_id):
            self.close(sub_id, reason)

    def shutdown(self) -> None:
        if self._worker is not None:
            self._worker.shutdown(wait=True)

    # -- matching ----------------------------------------------------------------
    async def upserted(self, collection: str, applied: Sequence[AppliedUpsert]) -> None:
        """Match a write's upserts on the worker, then queue the matches."""
        if applied and collection in self._by_collection:
            self._deliver_all(await self._on_worker(self._match_upserts, collection, applied))

    async def deleted(self, collection: str, ids: Sequence[str]) -> None:
        if ids and collection in self._by_collection:
            await self._on_worker(self._match_deletes, collection, ids)

    def on_upserts(self, collection: str, applied: Sequence[AppliedUpsert]) -> None:
        """``upserted`` on the calling thread (for callers without a loop to spare)."""
        if applied:
            self._deliver_all(self._match_upserts(collection, applied))

    def on_deletes(self, collection: str, ids: Sequence[str]) -> None:
        self._match_deletes(collection, ids)

    async def _on_worker(
        self, work: Callable[[str, _T], list[Delivery]], collection: str, arg: _T
    ) -> list[Delivery]:
        if self._worker is None:
            self._worker = ThreadPoolExecutor(1, thread_name_prefix="ruvstream-match")
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._worker, work, collection, arg)

    def _match_upserts(self, collection: str, applied: Sequence[AppliedUpsert]) -> list[Delivery]:
        with self._match_lock:
            self._take_changes()
            matcher = self._matchers.get(collection)
            if matcher is None:
                return []
            try:
                return matcher.upserts(applied, self._refill)
            except Exception:  # the write is applied already: never fail it here
                log.exception("matching %d upserts in %r failed", len(applied), collection)
                return []

    def _match_deletes(self, collection: str, ids: Sequence[str]) -> list[Delivery]:
        with self._match_lock:
            self._take_changes()
            matcher = self._matchers.get(collection)
            if matcher is not None:
                try:
                    matcher.deletes(ids, self._refill)
                except Exception:
                    log.exception("refilling after %d deletes in %r failed", len(ids), collection)
            return []

    def _change(self, added: bool, sub: Subscription) -> None:
        with self._changes_lock:
            self._changes.append((added, sub))
        if self._match_lock.acquire(blocking=False):  # no match running: apply now
            try:
                self._take_changes()
            finally:
                self._match_lock.release()

    def _take_changes(self) -> None:
        """Under the match lock: put queued adds and removals into the matchers."""
        with self._changes_lock:
            changes, self._changes = self._changes, []
        for added, sub in changes:
            matcher = self._matchers.get(sub.collection)
            if added:
                if matcher is None:
                    matcher = CollectionMatcher(len(sub.query), sub.metric)
                    self._matchers[sub.collection] = matcher
                matcher.add(sub)
            elif matcher is not None:
                matcher.remove(sub)
                if not matcher:  # a collection made again may have another dimension
                    del self._matchers[sub.collection]

    def _deliver_all(self, deliveries: list[Delivery]) -> None:
        by_listener: dict[MatchListener, list[Delivery]] = {}
        sizes: dict[str, int] = {}  # per record, measured once and only if it matched
        for delivery in deliveries:
            sub, match = delivery
            if sub.closed_reason is not None:
                continue
            if sub.listener is not None:
                by_listener.setdefault(sub.listener, []).append(delivery)
                continue
            size = sizes.get(match.id)
            if size is None:
                size = sizes[match.id] = _match_bytes(match)
            if (
                sub.queue.qsize() >= self._max_queue
                or sub.queued_bytes + size > self._max_queue_bytes
            ):
                self.close(sub.id, SLOW, drop_pending=True)
                continue
            sub.queued_bytes += size
            sub.queue.put_nowait(replace(match, nbytes=size))
        for listener, batch in by_listener.items():
            listener.matched(batch)


def _match_bytes(match: Match) -> int:
    return _MATCH_OVERHEAD_BYTES + len(match.id) + len(orjson.dumps(match.metadata))
