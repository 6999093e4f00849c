"""Applying many ops at once gives what applying them one by one gives, outcome by outcome."""

from __future__ import annotations

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ruvstream.core.records import OpRecord, RecordData, vector_to_bytes
from ruvstream.engine.apply import Catalog, Outcome, apply_op
from ruvstream.engine.apply_runs import apply_each
from tests.unit.conftest import create, delete, drop, record, upsert
from tests.unit.test_apply import state

_IDS = st.sampled_from(["x", "y", "z", "w"])
_OP = st.one_of(
    st.builds(
        lambda i, v: ("upsert", i, v), st.lists(_IDS, min_size=1, max_size=3), st.floats(0, 9)
    ),
    st.builds(lambda i: ("delete", i, 0.0), st.lists(_IDS, min_size=1, max_size=2)),
    st.just(("create", [], 0.0)),
    st.just(("drop", [], 0.0)),
    st.just(("short", [], 0.0)),
)


def _ops(shapes: list[tuple[str, list[str], float]], collections: list[str]) -> list[OpRecord]:
    ops = []
    for hlc, ((kind, ids, value), name) in enumerate(zip(shapes, collections, strict=True), 10):
        if kind == "upsert":
            records = [record(i, value + n, n=n) for n, i in enumerate(ids)]
            ops.append(upsert(hlc, *records, collection=name))
        elif kind == "delete":
            ops.append(delete(hlc, *ids, collection=name))
        elif kind == "create":
            ops.append(create(hlc, collection=name))
        elif kind == "drop":
            ops.append(drop(hlc, collection=name))
        else:  # a vector of the wrong dimension: this op fails, no other
            bad = RecordData("x", vector_to_bytes(np.zeros(3, dtype=np.float32)))
            ops.append(upsert(hlc, bad, collection=name))
    return ops


def _seen(result: Outcome | Exception) -> object:
    if isinstance(result, Exception):
        return "error"
    upserted = [(u.id, u.vector.tolist(), u.metadata) for u in result.upserted]
    return (result.changed, upserted, result.deleted, result.parked)


@settings(max_examples=60, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(st.data(), st.lists(_OP, max_size=25))
def test_apply_each_matches_apply_op_one_by_one(
    data: st.DataObject, shapes: list[tuple[str, list[str], float]]
) -> None:
    names = data.draw(st.lists(st.sampled_from("cd"), min_size=len(shapes), max_size=len(shapes)))
    ops = [create(1), create(2, collection="d"), *_ops(shapes, names)]
    one_by_one, together = Catalog(), Catalog()
    expected = []
    for op in ops:
        try:
            expected.append(_seen(apply_op(one_by_one, op)))
        except Exception:
            expected.append("error")
    got = [_seen(result) for result in apply_each(together, ops)]
    assert got == expected
    assert state(together) == state(one_by_one)
    assert {n: c.change_count for n, c in together.collections.items()} == {
        n: c.change_count for n, c in one_by_one.collections.items()
    }
