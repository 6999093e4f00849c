"""One standing query and what it pushes: ``Subscription`` and ``Match``.

A subscription holds a query vector and either ``min_score`` (every record
scoring at least that) or ``k`` (the top-k of the collection). For top-k it
keeps its current result set, ``members`` (id to score), seeded by a search
when it starts and kept exact by the matcher (subscription_matcher.py).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any, Protocol

from ruvstream.core.filters import Filter
from ruvstream.index.base import Matrix

__all__ = ["CLOSED", "SLOW", "Match", "MatchListener", "Subscription"]

CLOSED = object()
"""Queued after a subscription's last match."""
SLOW = "subscriber too slow: event queue full"
"""The reason of a subscription closed because its reader let the queue fill."""


@dataclass(frozen=True, slots=True)
class Match:
    subscription: str
    id: str
    score: float
    metadata: dict[str, Any]
    nbytes: int = field(default=0, compare=False)
    """Its share of the subscription's byte bound."""


class MatchListener(Protocol):
    """Takes a write's matches for its subscriptions in one call, in place of
    their queues: a socket carrying thousands of subscriptions then sends one
    frame per write, not one per match, and its own outbox bounds them."""

    def matched(self, batch: list[tuple[Subscription, Match]]) -> None: ...


@dataclass(eq=False)
class Subscription:
    id: str
    collection: str
    metric: str
    query: Matrix
    k: int | None
    min_score: float | None
    predicate: Filter | None
    queue: asyncio.Queue[Match | object]
    filter_key: str | None = None
    """The filter's canonical text: subscriptions with equal keys share one check."""
    members: dict[str, float] = field(default_factory=dict)
    """A top-k subscription's result set: record id to score."""
    closed_reason: str | None = None
    followed: bool = False
    """Whether a stream has ever read it (subscriptions nobody follows expire)."""
    row: int = -1
    """Its row in the collection's query matrix; -1 while it has none."""
    group: int = 0
    """Its filter group in that matrix."""
    queued_bytes: int = 0
    """What its queued matches count against the hub's byte bound."""
    listener: MatchListener | None = None
    """Set, it takes the matches and the queue only carries the end."""

    @property
    def fell_behind(self) -> bool:
        """Closed because its reader let the queue fill (a slow consumer)."""
        return self.closed_reason == SLOW

    def threshold(self) -> float:
        """The score a new record must reach to be considered: ``min_score``, or
        the k-th score once the top-k set is full, else minus infinity. (A tie
        with the k-th score is considered and then kept out: it does not beat it.)"""
        if self.min_score is not None:
            return self.min_score
        assert self.k is not None
        if len(self.members) < self.k:
            return float("-inf")
        return min(self.members.values())

    async def next(self) -> Match | None:
        """The next match, or None once the subscription is closed."""
        item = await self.queue.get()
        if item is CLOSED:
            self.queue.put_nowait(CLOSED)  # later callers see the end too
            return None
        assert isinstance(item, Match)
        self.queued_bytes -= item.nbytes
        return item
