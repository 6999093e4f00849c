"""Standing-query matching against an oracle that recomputes every result set.

The oracle holds the collection as a dict and, after each write, pushes a
written record to a subscription when it passes the filter and scores at
least ``min_score`` or is in the exact top-k of the whole (filtered)
collection. The hub must push exactly those records, in batch order, over
random interleavings of subscribe, upsert (new records and updates),
delete and unsubscribe.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from ruvstream.core.filters import Filter, compile_filter
from ruvstream.engine.collection import AppliedUpsert, Hit
from ruvstream.engine.match_matrix import NO_FILTER, FilterGroups, QueryMatrix
from ruvstream.engine.subscriptions import Match, Subscription, SubscriptionHub
from ruvstream.index.exact import exact_scores, prepare

DIM = 4
IDS = [f"r{i}" for i in range(10)]
FILTERS: dict[str, Any] = {"none": None, "even": {"kind": "even"}, "odd": {"kind": "odd"}}


def drained(sub: Subscription) -> list[str]:
    out = []
    while not sub.queue.empty():
        item = sub.queue.get_nowait()
        if isinstance(item, Match):
            out.append(item.id)
    return out


class Oracle:
    """The collection as a dict, and each subscription's expected pushes."""

    def __init__(self, metric: str) -> None:
        self.metric = metric
        self.records: dict[str, tuple[np.ndarray, dict[str, Any]]] = {}

    def ranked(self, query: np.ndarray, predicate: Filter | None) -> list[tuple[str, float]]:
        """Every record passing the filter, best first."""
        ids = [
            rid for rid, (_, meta) in self.records.items() if predicate is None or predicate(meta)
        ]
        if not ids:
            return []
        vectors = np.stack([self.records[rid][0] for rid in ids])
        scores = exact_scores(query[None, :], vectors, self.metric)[0].tolist()
        return sorted(zip(ids, scores, strict=True), key=lambda p: -p[1])

    def top_k(self, sub: Subscription) -> list[tuple[str, float]]:
        """The refill the hub is given: exact, from the state after the write."""
        assert sub.k is not None
        return self.ranked(sub.query, sub.predicate)[: sub.k]

    def expected(self, sub: Subscription, written: list[str]) -> list[str]:
        if sub.k is not None:
            members = {rid for rid, _ in self.top_k(sub)}
            return [rid for rid in written if rid in members]
        assert sub.min_score is not None
        ranked = self.ranked(sub.query, sub.predicate)
        passing = {rid for rid, score in ranked if score >= sub.min_score}
        return [rid for rid in written if rid in passing]


op_strategy = st.one_of(
    st.tuples(
        st.just("sub"),
        st.sampled_from(["k1", "k3", "low", "high"]),
        st.sampled_from(list(FILTERS)),
        st.integers(0, 2**31),
    ),
    st.tuples(st.just("up"), st.lists(st.sampled_from(IDS), min_size=1, max_size=6)),
    st.tuples(st.just("del"), st.lists(st.sampled_from(IDS), min_size=1, max_size=3)),
    st.tuples(st.just("unsub"), st.integers(0, 20)),
)


@settings(max_examples=150, deadline=None)
@given(
    metric=st.sampled_from(["cosine", "l2"]),
    ops=st.lists(op_strategy, min_size=1, max_size=40),
    seed=st.integers(0, 2**31),
)
def test_pushes_exactly_what_the_oracle_recomputes(
    metric: str, ops: list[tuple[Any, ...]], seed: int
) -> None:
    rng = np.random.default_rng(seed)
    oracle = Oracle(metric)
    hub = SubscriptionHub(refill=oracle.top_k)
    subs: list[Subscription] = []
    thresholds = {"cosine": {"low": 0.0, "high": 0.5}, "l2": {"low": -2.0, "high": -1.2}}
    for op in ops:
        if op[0] == "sub":
            _, kind, filter_name, _ = op
            predicate = compile_filter(FILTERS[filter_name])
            k = {"k1": 1, "k3": 3}.get(kind)
            query = rng.normal(size=DIM).astype(np.float32)
            ranked = oracle.ranked(prepare(query[None, :], metric)[0], predicate)
            seed_hits = [Hit(rid, s, {}) for rid, s in ranked[:k]] if k else []
            subs.append(
                hub.create(
                    "c",
                    metric,
                    query,
                    k=k,
                    min_score=None if k else thresholds[metric][kind],
                    predicate=predicate,
                    filter_key=filter_name if predicate else None,
                    seed=seed_hits,
                )
            )
        elif op[0] == "up":
            batch = []
            for rid in op[1]:
                vector = prepare(rng.normal(size=(1, DIM)), metric)[0]
                meta = {"kind": str(rng.choice(["even", "odd"]))}
                batch.append(AppliedUpsert(rid, vector, meta))
            for record in batch:
                oracle.records[record.id] = (record.vector, record.metadata)
            last = {r.id: i for i, r in enumerate(batch)}  # a batch's last record of an id wins
            written = sorted(last, key=last.__getitem__)
            hub.on_upserts("c", batch)
            for sub in subs:
                assert drained(sub) == oracle.expected(sub, written), (sub.k, sub.min_score)
        elif op[0] == "del":
            for rid in op[1]:
                oracle.records.pop(rid, None)
            hub.on_deletes("c", op[1])
        elif subs:
            sub = subs.pop(op[1] % len(subs))
            hub.close(sub.id, "unsubscribed")
    for sub in subs:
        if sub.k is not None:
            assert sub.members.keys() == {rid for rid, _ in oracle.top_k(sub)}


def test_many_subscriptions_match_as_the_pairwise_walk_does() -> None:
    """Several row blocks, shared filters: the same matches as checking every pair."""
    rng = np.random.default_rng(5)
    hub = SubscriptionHub()
    predicate = compile_filter({"kind": "even"})
    subs = [
        hub.create(
            "c",
            "cosine",
            rng.normal(size=DIM).astype(np.float32),
            k=None,
            min_score=0.9,
            predicate=predicate if i % 2 else None,
            filter_key='{"kind":"even"}' if i % 2 else None,
        )
        for i in range(20_000)
    ]
    vectors = prepare(rng.normal(size=(50, DIM)), "cosine")
    batch = [
        AppliedUpsert(f"x{i}", vectors[i], {"kind": "even" if i % 3 else "odd"}) for i in range(50)
    ]
    hub.on_upserts("c", batch)
    for sub in subs[:2000]:
        expected = [
            r.id
            for r in batch
            if float(exact_scores(sub.query[None, :], r.vector[None, :], "cosine")[0, 0]) >= 0.9
            and (sub.predicate is None or sub.predicate(r.metadata))
        ]
        assert drained(sub) == expected


def test_each_distinct_filter_is_checked_once_per_record() -> None:
    calls: list[str] = []

    def counting(name: str) -> Filter:
        def check(meta: dict[str, Any]) -> bool:
            calls.append(name)
            return True

        return Filter(check, 1)

    hub = SubscriptionHub()
    shared = counting("shared")
    for _ in range(100):
        hub.create(
            "c",
            "l2",
            np.zeros(DIM, np.float32),
            k=None,
            min_score=-9.0,
            predicate=shared,
            filter_key="shared",
        )
    hub.on_upserts("c", [AppliedUpsert(f"r{i}", np.zeros(DIM, np.float32), {}) for i in range(7)])
    assert calls == ["shared"] * 7


def test_query_matrix_grows_in_place_and_removes_by_swapping_with_the_last_row() -> None:
    matrix = QueryMatrix(2)
    capacities = set()
    for i in range(1000):
        assert matrix.add(np.array([i, i], np.float32), float(i), NO_FILTER) == i
        capacities.add(matrix.capacity)
    assert len(capacities) <= 8, "doubling: a handful of re-allocations for 1000 rows"
    assert matrix.remove(3) == 999
    assert matrix.vectors()[3].tolist() == [999.0, 999.0]
    assert matrix.threshold(3) == 999.0
    assert matrix.remove(998) is None, "the last row moves nothing"
    assert len(matrix) == 998


def test_filter_groups_reuse_released_ids() -> None:
    groups = FilterGroups()
    even = compile_filter({"kind": "even"})
    assert even is not None
    a = groups.acquire("even", even)
    assert groups.acquire("even", even) == a
    groups.release(a)
    groups.release(a)
    assert len(groups) == 0
    table = groups.verdicts([{"kind": "even"}])
    assert table[NO_FILTER].tolist() == [True] and not table[a].any()
    assert groups.acquire("odd", even) == a
