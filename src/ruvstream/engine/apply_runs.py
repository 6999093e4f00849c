"""``apply_op`` over many ops at once, with one index add per run of upserts.

faiss pays a fixed cost per ``add`` call (and the store one per ``put``: a
lock, a size measure, a copy of the stored rows), so a trip of many
single-record upserts into one collection goes as one ``apply_upserts``.
The outcome is the one ``apply_op`` gives op by op: a run only takes
upserts into a collection that exists, with vectors of its dimension and
ids no other op of the run has, so no op of a run decides another's fate.
Anything else (lifecycle ops, deletes, parked writes) is applied alone, in
its place; an op that fails fails alone.
"""

from __future__ import annotations

from collections.abc import Sequence

from ruvstream.core.records import OpKind, OpRecord
from ruvstream.engine.apply import Catalog, Outcome, apply_op
from ruvstream.engine.collection import Collection

__all__ = ["apply_each"]

Result = Outcome | Exception


def apply_each(catalog: Catalog, ops: Sequence[OpRecord]) -> list[Result]:
    """The outcome (or the error) of every op, applied in this order."""
    results: list[Result] = []
    run: list[OpRecord] = []
    ids: set[str] = set()
    for op in ops:
        collection = catalog.collections.get(op.collection)
        if run and not _joins(run, ids, op, collection):
            results += _apply_run(catalog, run)
            run, ids = [], set()
        if collection is not None and _fits(op, collection):
            run.append(op)
            ids.update(r.id for r in op.records)
        else:
            results.append(_apply_one(catalog, op))
    results += _apply_run(catalog, run)
    return results


def _fits(op: OpRecord, collection: Collection) -> bool:
    width = 4 * collection.spec.dim
    return op.op is OpKind.UPSERT and all(len(r.vector) == width for r in op.records)


def _joins(run: list[OpRecord], ids: set[str], op: OpRecord, collection: Collection | None) -> bool:
    return (
        collection is not None
        and op.collection == run[0].collection
        and _fits(op, collection)
        and not ids.intersection(r.id for r in op.records)
    )


def _apply_run(catalog: Catalog, run: list[OpRecord]) -> list[Result]:
    if len(run) <= 1:
        return [_apply_one(catalog, op) for op in run]
    collection = catalog.collections[run[0].collection]
    try:
        applied = collection.apply_upserts([(op.records, op.version) for op in run])
    except Exception:  # one at a time, so the failure stays with its op
        return [_apply_one(catalog, op) for op in run]
    return [Outcome(changed=bool(upserted), upserted=upserted) for upserted in applied]


def _apply_one(catalog: Catalog, op: OpRecord) -> Result:
    try:
        return apply_op(catalog, op)
    except Exception as exc:
        return exc
