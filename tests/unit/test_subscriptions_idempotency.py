"""Standing-query semantics and the idempotency table's TTL."""

from __future__ import annotations

import numpy as np

from ruvstream.core.clock import ManualClock
from ruvstream.core.filters import compile_filter
from ruvstream.engine.collection import AppliedUpsert, Hit
from ruvstream.engine.idempotency import IdempotencyTable
from ruvstream.engine.subscriptions import Match, SubscriptionHub
from tests.unit.conftest import vec


def up(record_id: str, x: float, **metadata: object) -> AppliedUpsert:
    return AppliedUpsert(record_id, vec(x), dict(metadata))


def drained(queue: object) -> list[Match]:
    out: list[Match] = []
    assert hasattr(queue, "get_nowait") and hasattr(queue, "empty")
    while not queue.empty():
        item = queue.get_nowait()
        if isinstance(item, Match):
            out.append(item)
    return out


async def test_min_score_delivers_every_record_at_or_above() -> None:
    hub = SubscriptionHub()
    sub = hub.create("c", "l2", vec(0.0), k=None, min_score=-2.0, predicate=None)
    hub.on_upserts("c", [up("near", 1.0), up("edge", 2.0), up("far", 3.0)])
    assert [m.id for m in drained(sub.queue)] == ["near", "edge"]


async def test_top_k_admits_only_what_enters_the_result_set() -> None:
    hub = SubscriptionHub()
    seed = [Hit("s1", -1.0, {}), Hit("s2", -3.0, {})]
    sub = hub.create("c", "l2", vec(0.0), k=2, min_score=None, predicate=None, seed=seed)
    hub.on_upserts("c", [up("worse", 5.0)])
    assert drained(sub.queue) == [], "weaker than the weakest member"
    hub.on_upserts("c", [up("better", 2.0)])
    assert [m.id for m in drained(sub.queue)] == ["better"], "beats s2 (-3) and evicts it"
    hub.on_upserts("c", [up("s2", 2.5)])
    assert drained(sub.queue) == [], "s2 was evicted and -2.5 does not beat -2"
    hub.on_upserts("c", [up("s1", 4.0)])
    assert [m.id for m in drained(sub.queue)] == ["s1"], "a member's update is reported"


async def test_top_k_fills_before_it_competes() -> None:
    hub = SubscriptionHub()
    sub = hub.create("c", "l2", vec(0.0), k=3, min_score=None, predicate=None)
    hub.on_upserts("c", [up("a", 9.0), up("b", 8.0)])
    assert {m.id for m in drained(sub.queue)} == {"a", "b"}
    hub.on_deletes("c", ["a"])
    hub.on_upserts("c", [up("c", 10.0)])
    assert [m.id for m in drained(sub.queue)] == ["c"], "a delete frees a place"


async def test_filter_limits_matches() -> None:
    hub = SubscriptionHub()
    predicate = compile_filter({"genre": "jazz"})
    sub = hub.create("c", "l2", vec(0.0), k=None, min_score=-100.0, predicate=predicate)
    other = hub.create("d", "l2", vec(0.0), k=None, min_score=-100.0, predicate=None)
    hub.on_upserts("c", [up("j", 1.0, genre="jazz"), up("r", 1.0, genre="rock")])
    assert [m.id for m in drained(sub.queue)] == ["j"]
    assert drained(other.queue) == [], "other collections hear nothing"


async def test_full_queue_closes_the_subscriber_only() -> None:
    hub = SubscriptionHub(max_queue=3)
    slow = hub.create("c", "l2", vec(0.0), k=None, min_score=-100.0, predicate=None)
    fast = hub.create("c", "l2", vec(0.0), k=None, min_score=-100.0, predicate=None)
    for i in range(3):
        hub.on_upserts("c", [up(f"r{i}", float(i))])
    drained(fast.queue)
    hub.on_upserts("c", [up("r3", 3.0)])
    assert slow.closed_reason is not None and "queue full" in slow.closed_reason
    assert len(hub) == 1
    assert fast.closed_reason is None
    assert [m.id for m in drained(fast.queue)] == ["r3"]
    assert slow.fell_behind
    assert await slow.next() is None, "what it had queued is dropped: only the end is left"
    assert await slow.next() is None


async def test_scores_follow_the_metric() -> None:
    hub = SubscriptionHub()
    sub = hub.create("c", "cosine", vec(1.0, 1.0), k=None, min_score=0.99, predicate=None)
    stored = np.array([2.0, 2.0, 0.0, 0.0], dtype=np.float32) / np.sqrt(np.float32(8.0))
    hub.on_upserts("c", [AppliedUpsert("same", stored, {})])
    (match,) = drained(sub.queue)
    assert abs(match.score - 1.0) < 1e-5


def test_idempotency_answers_within_ttl_and_forgets_after() -> None:
    clock = ManualClock()
    table = IdempotencyTable(clock, ttl=60.0)
    table.remember("c", "k1", {"upserted": 2})
    assert table.get("c", "k1") == {"upserted": 2}
    assert table.get("other", "k1") is None, "keys are scoped by collection"
    assert table.get("c", "") is None
    clock.advance(59.0)
    table.remember("c", "k2", {"upserted": 1})
    assert table.get("c", "k1") == {"upserted": 2}
    clock.advance(2.0)
    assert table.get("c", "k1") is None
    assert table.get("c", "k2") == {"upserted": 1}
    assert len(table) == 1


def test_idempotency_export_and_load_keep_stamps() -> None:
    clock = ManualClock()
    table = IdempotencyTable(clock, ttl=60.0)
    table.remember("c", "old", {"deleted": 1}, at=clock.now() - 50)
    table.remember("c", "new", {"deleted": 2})
    rebuilt = IdempotencyTable(clock, ttl=60.0)
    rebuilt.load(table.export())
    clock.advance(20.0)
    assert rebuilt.get("c", "old") is None
    assert rebuilt.get("c", "new") == {"deleted": 2}


async def test_queue_bound_in_bytes_closes_the_subscriber_and_drops_what_it_held() -> None:
    hub = SubscriptionHub(max_queue=1000, max_queue_bytes=10_000)
    slow = hub.create("c", "l2", vec(0.0), k=None, min_score=-100.0, predicate=None)
    pad = "x" * 3000
    for i in range(3):
        hub.on_upserts("c", [up(f"r{i}", float(i), pad=pad)])
    assert slow.closed_reason is None and slow.queued_bytes > 9000
    hub.on_upserts("c", [up("r3", 3.0, pad=pad)])
    assert slow.fell_behind
    assert slow.queued_bytes == 0 and slow.queue.qsize() == 1, "only the end marker is left"
    assert await slow.next() is None
