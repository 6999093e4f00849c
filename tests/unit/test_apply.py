"""Last-writer-wins apply: order, duplicates and lifecycle never change the outcome."""

from __future__ import annotations

from typing import Any

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ruvstream.core.records import OpRecord
from ruvstream.engine.apply import Catalog, apply_op
from ruvstream.engine.collection import SearchRequest
from tests.unit.conftest import create, delete, drop, record, upsert, vec


def state(catalog: Catalog) -> dict[str, Any]:
    """Everything a reader can observe: per collection, id -> (vector, metadata)."""
    seen: dict[str, Any] = {}
    for name, collection in catalog.collections.items():
        records = {}
        for record_id in sorted(collection._store.slots):
            stored = collection.get(record_id)
            assert stored is not None
            records[record_id] = (stored.vector.tolist(), stored.metadata)
        seen[name] = (collection.created, records)
    return seen


def applied(ops: list[OpRecord]) -> Catalog:
    catalog = Catalog()
    for op in ops:
        apply_op(catalog, op)
    return catalog


def test_older_upsert_after_newer_is_ignored() -> None:
    catalog = applied([create(1), upsert(10, record("x", 2.0, v=2)), upsert(5, record("x", 1.0))])
    stored = catalog.collections["c"].get("x")
    assert stored is not None and stored.metadata == {"v": 2}
    assert stored.vector.tolist() == vec(2.0).tolist()


def test_tie_on_hlc_breaks_by_origin() -> None:
    one = applied(
        [
            create(1),
            upsert(10, record("x", 1.0), origin="a"),
            upsert(10, record("x", 2.0), origin="b"),
        ]
    )
    two = applied(
        [
            create(1),
            upsert(10, record("x", 2.0), origin="b"),
            upsert(10, record("x", 1.0), origin="a"),
        ]
    )
    assert state(one) == state(two)
    assert state(one)["c"][1]["x"][0] == vec(2.0).tolist()


def test_tombstone_beats_a_late_older_upsert() -> None:
    catalog = applied([create(1), upsert(5, record("x", 1.0)), delete(10, "x")])
    outcome = apply_op(catalog, upsert(7, record("x", 3.0)))
    assert not outcome.changed
    collection = catalog.collections["c"]
    assert collection.get("x") is None and collection.count == 0
    hits = collection.search_many([SearchRequest(vec(3.0), 5)])[0]
    assert hits == []
    assert apply_op(catalog, upsert(11, record("x", 4.0))).changed, "a newer write revives it"


def test_duplicates_are_no_ops() -> None:
    ops = [create(1), upsert(5, record("x", 1.0)), delete(6, "y"), upsert(7, record("y", 2.0))]
    catalog = applied(ops)
    before = state(catalog)
    changes = catalog.collections["c"].change_count
    for op in ops:
        outcome = apply_op(catalog, op)
        assert not outcome.changed
    assert state(catalog) == before
    assert catalog.collections["c"].change_count == changes


def test_write_before_its_collection_waits_for_the_create() -> None:
    catalog = Catalog()
    assert apply_op(catalog, upsert(5, record("x", 1.0))).parked
    outcome = apply_op(catalog, create(10))
    assert [a.id for a in outcome.upserted] == ["x"], "the parked write lands with its create"
    assert catalog.parked == {}


def test_drop_hides_older_creates_and_writes() -> None:
    catalog = applied([create(1), upsert(2, record("x", 1.0)), drop(5)])
    assert "c" not in catalog.collections
    assert not apply_op(catalog, create(3)).changed, "a create older than the drop stays dropped"
    assert not apply_op(catalog, upsert(4, record("y", 1.0))).changed
    assert catalog.parked == {}, "a write older than the drop is not kept waiting"
    assert apply_op(catalog, create(6)).changed
    assert catalog.collections["c"].count == 0, "a new life starts empty"


def test_concurrent_creates_earliest_wins() -> None:
    a = applied([create(5, origin="a", dim=4), create(5, origin="b", dim=8)])
    b = applied([create(5, origin="b", dim=8), create(5, origin="a", dim=4)])
    assert a.collections["c"].created == b.collections["c"].created == (5, "a")
    assert a.collections["c"].spec.dim == b.collections["c"].spec.dim == 4


LIFECYCLE: list[OpRecord] = [create(1), create(2, origin="b"), create(1, origin="b")]
OTHER_LIFE: list[OpRecord] = [
    create(3, collection="other"),
    drop(20, collection="other"),
    create(21, collection="other"),
]
WRITES: list[OpRecord] = [
    upsert(10, record("a", 1.0, n=1), record("b", 2.0)),
    upsert(11, record("a", 5.0, n=2)),
    delete(12, "b"),
    upsert(13, record("b", 7.0), origin="z"),
    upsert(13, record("b", 8.0), origin="y"),
    delete(14, "c", "a"),
    upsert(9, record("c", 3.0)),
    upsert(15, record("d", 4.0)),
    upsert(22, record("o", 1.0), collection="other"),
    upsert(4, record("gone", 1.0), collection="other"),
]
OPS = LIFECYCLE + OTHER_LIFE + WRITES


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.permutations(LIFECYCLE),
    st.permutations(WRITES),
    st.lists(st.integers(0, len(OPS) - 1), max_size=4),
)
def test_any_order_with_duplicates_converges(
    lifecycle: list[OpRecord], writes: list[OpRecord], dupes: list[int]
) -> None:
    """Competing creates in any order, then writes in any order, with duplicates."""
    expected = state(applied(sorted(OPS, key=lambda op: op.version)))
    ops = list(lifecycle) + OTHER_LIFE + list(writes)
    for i in dupes:
        ops.insert(len(ops) - i, OPS[i])
    assert state(applied(ops)) == expected


def test_converged_state_is_the_expected_one() -> None:
    final = state(applied(OPS))
    records = final["c"][1]
    assert final["c"][0] == (1, "a"), "the earliest create wins"
    assert set(records) == {"b", "d"}
    assert records["b"][0] == vec(7.0).tolist(), "(13, 'z') beats (13, 'y')"
    assert final["other"][0] == (21, "a")
    assert set(final["other"][1]) == {"o"}, "writes older than the drop stay dropped"
    assert np.isfinite(records["d"][0]).all()


def test_write_arriving_before_its_create_still_converges() -> None:
    in_order = applied([create(1), upsert(13, record("b", 7.0), origin="z")])
    reordered = applied([upsert(13, record("b", 7.0), origin="z"), create(1)])
    assert state(reordered) == state(in_order)


def test_drop_and_recreate_converge_in_any_order() -> None:
    in_order = applied([create(3), drop(20), create(21)])
    reordered = applied([create(21), create(3), drop(20)])
    assert "c" in in_order.collections
    assert state(reordered) == state(in_order)
