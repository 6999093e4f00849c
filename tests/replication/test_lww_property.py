"""Duplicated and reordered deliveries change nothing: replicas converge to the
last writer on (hlc, origin), checked on the engine's one apply function."""

from __future__ import annotations

from typing import Any

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from ruvstream.core.records import (
    CollectionSpecData,
    OpKind,
    OpRecord,
    RecordData,
    vector_from_bytes,
    vector_to_bytes,
)
from ruvstream.engine import Catalog, apply_op

IDS = ["a", "b", "c", "d"]
REGIONS = ["us-east1", "europe-west1", "asia-east1"]
CREATE = OpRecord(
    1,
    "us-east1",
    "c",
    OpKind.CREATE_COLLECTION,
    spec=CollectionSpecData(dim=4, metric="l2", m=8, ef_construction=16, ef_search=16),
)


@st.composite
def write_ops(draw: st.DrawFn) -> list[OpRecord]:
    count = draw(st.integers(1, 25))
    ops: list[OpRecord] = []
    used: set[tuple[int, str]] = set()
    for n in range(count):
        hlc = draw(st.integers(10, 40))
        origin = draw(st.sampled_from(REGIONS))
        if (hlc, origin) in used:  # one region never stamps two ops alike
            continue
        used.add((hlc, origin))
        ids = draw(st.lists(st.sampled_from(IDS), min_size=1, max_size=3, unique=True))
        if draw(st.booleans()):
            records = tuple(
                RecordData(i, vector_to_bytes(np.full(4, n, dtype=np.float32)), {"n": n})
                for i in ids
            )
            ops.append(OpRecord(hlc, origin, "c", OpKind.UPSERT, records=records))
        else:
            ops.append(OpRecord(hlc, origin, "c", OpKind.DELETE, ids=tuple(ids)))
    return ops


def state(catalog: Catalog) -> dict[str, Any]:
    collection = catalog.collections["c"]
    out: dict[str, Any] = {}
    for record_id in IDS:
        stored = collection.get(record_id)
        if stored is not None:
            out[record_id] = (stored.vector.tolist(), stored.metadata)
    return out


def oracle(ops: list[OpRecord]) -> dict[str, Any]:
    """The last writer per id on (hlc, origin) decides: its value, or absence."""
    winner: dict[str, tuple[tuple[int, str], Any]] = {}
    for op in ops:
        values = (
            {r.id: (vector_from_bytes(r.vector).tolist(), r.metadata) for r in op.records}
            if op.op is OpKind.UPSERT
            else dict.fromkeys(op.ids)
        )
        for record_id, value in values.items():
            if record_id not in winner or winner[record_id][0] < op.version:
                winner[record_id] = (op.version, value)
    return {i: v for i, (_, v) in winner.items() if v is not None}


def replay(ops: list[OpRecord]) -> Catalog:
    catalog = Catalog()
    apply_op(catalog, CREATE)
    for op in ops:
        apply_op(catalog, op)
    return catalog


@settings(max_examples=60, deadline=None)
@given(ops=write_ops(), data=st.data())
def test_any_delivery_order_with_duplicates_converges_to_the_last_writer(
    ops: list[OpRecord], data: st.DataObject
) -> None:
    duplicated = ops + data.draw(st.lists(st.sampled_from(ops), max_size=10))
    shuffled = data.draw(st.permutations(duplicated))
    in_order = replay(ops)
    assert state(in_order) == oracle(ops)
    assert state(replay(list(shuffled))) == state(in_order)


@settings(max_examples=30, deadline=None)
@given(ops=write_ops(), data=st.data())
def test_reapplying_a_delivered_op_reports_no_change(
    ops: list[OpRecord], data: st.DataObject
) -> None:
    catalog = replay(ops)
    again = data.draw(st.sampled_from(ops))
    assert not apply_op(catalog, again).changed
