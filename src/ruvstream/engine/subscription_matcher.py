"""Matching one collection's write batches against all its standing queries.

The semantics, which the property test checks against an oracle: after a
write is applied, a record it upserted is pushed to a subscription when it
passes the filter and either scores at least ``min_score`` or is in the
subscription's top-k of the whole collection at that moment. Records that
enter a top-k set without being written (a member was deleted, or updated to
a lower score) are not pushed, but they do enter the set, through ``refill``
(an exact search of the collection), so the next write is compared with the
true k-th score.

The work is one matrix product (subscriptions x records, in row blocks) and
one comparison with each row's threshold; filters are checked once per
distinct filter and record. Python runs only for the (subscription, record)
pairs that pass, and for top-k subscriptions one of whose members the write
touches.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable, Sequence

import numpy as np

from ruvstream.engine.collection import AppliedUpsert
from ruvstream.engine.match_matrix import NO_FILTER, FilterGroups, QueryMatrix, Verdicts
from ruvstream.engine.standing_query import Match, Subscription
from ruvstream.index.base import Matrix
from ruvstream.index.exact import exact_scores

__all__ = ["BLOCK_ROWS", "CollectionMatcher", "Delivery", "Refill"]

BLOCK_ROWS = 8192
"""Subscriptions scored at once: 8192 x 100 records of float32 is 3 MiB."""

Refill = Callable[[Subscription], Sequence[tuple[str, float]]]
"""The exact current top-k (id, score) of a subscription, from its collection."""
Delivery = tuple[Subscription, Match]


class CollectionMatcher:
    """The subscriptions of one collection (one dimension, one metric)."""

    def __init__(self, dim: int, metric: str) -> None:
        self.metric = metric
        self.matrix = QueryMatrix(dim)
        self.filters = FilterGroups()
        self.rows: list[Subscription] = []
        self._member_of: dict[str, set[Subscription]] = {}
        """Record id to the top-k subscriptions holding it: a write touching one
        of these records needs that subscription's full attention."""

    def __len__(self) -> int:
        return len(self.rows)

    def add(self, sub: Subscription) -> None:
        if sub.predicate is not None:
            key = sub.filter_key if sub.filter_key is not None else f"#{id(sub.predicate)}"
            sub.group = self.filters.acquire(key, sub.predicate)
        sub.row = self.matrix.add(sub.query, sub.threshold(), sub.group)
        self.rows.append(sub)
        for record_id in sub.members:
            self._member_of.setdefault(record_id, set()).add(sub)

    def remove(self, sub: Subscription) -> None:
        if sub.row < 0:
            return
        moved = self.matrix.remove(sub.row)
        if moved is not None:
            self.rows[sub.row] = self.rows[moved]
            self.rows[sub.row].row = sub.row
        self.rows.pop()
        self.filters.release(sub.group)
        for record_id in sub.members:
            self._forget_member(record_id, sub)
        sub.row, sub.group = -1, NO_FILTER

    # -- writes ------------------------------------------------------------------
    def upserts(self, applied: Sequence[AppliedUpsert], refill: Refill | None) -> list[Delivery]:
        applied = _last_of_each_id(applied)
        vectors: Matrix = np.stack([a.vector for a in applied]).astype(np.float32, copy=False)
        verdicts = self.filters.verdicts([a.metadata for a in applied])
        touched: dict[Subscription, None] = {}
        for record in applied:
            for sub in self._member_of.get(record.id, ()):
                touched[sub] = None
        out: list[Delivery] = []
        size = self.matrix.size
        for start in range(0, size, BLOCK_ROWS):
            stop = min(size, start + BLOCK_ROWS)
            scores = exact_scores(self.matrix.vectors(start, stop), vectors, self.metric)
            passing = scores >= self.matrix.thresholds(start, stop)[:, None]
            passing &= verdicts[self.matrix.groups(start, stop)]
            rows, cols = np.nonzero(passing)
            if len(rows):
                picked = scores[rows, cols].tolist()
                out += self._admit_block(
                    start, rows.tolist(), cols.tolist(), picked, applied, touched
                )
        for sub in touched:
            out += self._touched(sub, applied, vectors, verdicts, refill)
        return out

    def deletes(self, ids: Sequence[str], refill: Refill | None) -> None:
        stale: dict[Subscription, None] = {}
        for record_id in ids:
            for sub in self._member_of.pop(record_id, set()):
                del sub.members[record_id]
                stale[sub] = None
        for sub in stale:
            if refill is not None:
                self._set_members(sub, dict(refill(sub)))
            else:
                self.matrix.set_threshold(sub.row, sub.threshold())

    # -- the parts ---------------------------------------------------------------
    def _admit_block(
        self,
        start: int,
        rows: list[int],
        cols: list[int],
        scores: list[float],
        applied: Sequence[AppliedUpsert],
        touched: dict[Subscription, None],
    ) -> list[Delivery]:
        """Rows come sorted (``nonzero`` is row-major): one run of pairs per row."""
        out: list[Delivery] = []
        i, n = 0, len(rows)
        while i < n:
            j = i
            while j < n and rows[j] == rows[i]:
                j += 1
            sub = self.rows[start + rows[i]]
            if sub not in touched:
                out += self._admit(sub, applied, list(zip(cols[i:j], scores[i:j], strict=True)))
            i = j
        return out

    def _admit(
        self,
        sub: Subscription,
        applied: Sequence[AppliedUpsert],
        candidates: list[tuple[int, float]],
    ) -> list[Delivery]:
        """Push the candidates (column, score) that are in the result set after the write."""
        if sub.k is not None and len(sub.members) >= sub.k and len(candidates) == 1:
            return self._admit_one(sub, applied[candidates[0][0]], candidates[0][1])
        if sub.k is not None:
            pool = [(score, 1, 0, rid) for rid, score in sub.members.items()]
            pool += [(score, 0, -col, applied[col].id) for col, score in candidates]
            # Ties keep the members, then the earlier records: a tie never enters.
            kept = heapq.nlargest(sub.k, pool)
            self._set_members(sub, {rid: score for score, _, _, rid in kept})
            candidates = [(c, s) for c, s in candidates if applied[c].id in sub.members]
        return [
            (sub, Match(sub.id, applied[col].id, score, applied[col].metadata))
            for col, score in candidates
        ]

    def _admit_one(self, sub: Subscription, record: AppliedUpsert, score: float) -> list[Delivery]:
        """The common case: one new record against a full top-k set."""
        members = sub.members
        weakest = min(members, key=members.__getitem__)
        if score <= members[weakest]:
            return []
        del members[weakest]
        self._forget_member(weakest, sub)
        members[record.id] = score
        self._member_of.setdefault(record.id, set()).add(sub)
        self.matrix.set_threshold(sub.row, min(members.values()))
        return [(sub, Match(sub.id, record.id, score, record.metadata))]

    def _touched(
        self,
        sub: Subscription,
        applied: Sequence[AppliedUpsert],
        vectors: Matrix,
        verdicts: Verdicts,
        refill: Refill | None,
    ) -> list[Delivery]:
        """A top-k subscription one of whose members this write updated."""
        scores = exact_scores(sub.query[None, :], vectors, self.metric)[0].tolist()
        passes = verdicts[sub.group].tolist()
        threshold = sub.threshold()
        candidates: list[tuple[int, float]] = []
        shrank = False
        for col, record in enumerate(applied):
            old = sub.members.pop(record.id, None)
            if old is not None:
                self._forget_member(record.id, sub)
                shrank |= not passes[col] or scores[col] < old
            if passes[col] and (old is not None or scores[col] >= threshold):
                candidates.append((col, scores[col]))
        if not shrank or refill is None:
            return self._admit(sub, applied, candidates)
        # A member fell: records already in the collection, and written ones below
        # the old threshold, may now rank above it.
        self._set_members(sub, dict(refill(sub)))
        return [
            (sub, Match(sub.id, record.id, scores[col], record.metadata))
            for col, record in enumerate(applied)
            if passes[col] and record.id in sub.members
        ]

    def _set_members(self, sub: Subscription, members: dict[str, float]) -> None:
        for record_id in sub.members.keys() - members.keys():
            self._forget_member(record_id, sub)
        for record_id in members.keys() - sub.members.keys():
            self._member_of.setdefault(record_id, set()).add(sub)
        sub.members = members
        self.matrix.set_threshold(sub.row, sub.threshold())

    def _forget_member(self, record_id: str, sub: Subscription) -> None:
        holders = self._member_of.get(record_id)
        if holders is not None:
            holders.discard(sub)
            if not holders:
                del self._member_of[record_id]


def _last_of_each_id(applied: Sequence[AppliedUpsert]) -> Sequence[AppliedUpsert]:
    last = {record.id: i for i, record in enumerate(applied)}
    if len(last) == len(applied):
        return applied
    return [applied[i] for i in sorted(last.values())]
