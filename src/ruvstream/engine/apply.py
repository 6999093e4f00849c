"""The one apply function: client writes, WAL replay and replication all end here.

``apply_op`` is synchronous and deterministic given the catalog's state and
the op; it takes collection locks itself and is safe to run in an executor.
Collection lifecycle ops follow the same last-writer-wins rule as records:
a drop hides every create at or before its version, and when two regions
create the same collection concurrently the earliest create wins everywhere.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from ruvstream.core.hlc import Version
from ruvstream.core.records import OpKind, OpRecord
from ruvstream.core.spec import CollectionSpec
from ruvstream.engine.collection import AppliedUpsert, Collection

__all__ = ["Catalog", "Outcome", "apply_op"]

log = logging.getLogger(__name__)


@dataclass
class Catalog:
    """Every collection of a node, plus the versions of their drops."""

    collections: dict[str, Collection] = field(default_factory=dict)
    dropped: dict[str, Version] = field(default_factory=dict)


@dataclass
class Outcome:
    """What an op changed: enough for replies, subscribers and metrics."""

    changed: bool = False
    upserted: list[AppliedUpsert] = field(default_factory=list)
    deleted: list[str] = field(default_factory=list)
    created: Collection | None = None
    dropped: Collection | None = None
    skipped_unknown_collection: bool = False


def _create(catalog: Catalog, op: OpRecord) -> Outcome:
    assert op.spec is not None
    if catalog.dropped.get(op.collection, (-1, "")) >= op.version:
        return Outcome()
    existing = catalog.collections.get(op.collection)
    if existing is not None and existing.created <= op.version:
        return Outcome()
    collection = Collection(op.collection, CollectionSpec.from_data(op.spec), op.version)
    catalog.collections[op.collection] = collection
    return Outcome(changed=True, created=collection, dropped=existing)


def _drop(catalog: Catalog, op: OpRecord) -> Outcome:
    if catalog.dropped.get(op.collection, (-1, "")) < op.version:
        catalog.dropped[op.collection] = op.version
    existing = catalog.collections.get(op.collection)
    if existing is None or existing.created > op.version:
        return Outcome()
    del catalog.collections[op.collection]
    return Outcome(changed=True, dropped=existing)


def apply_op(catalog: Catalog, op: OpRecord) -> Outcome:
    if op.op is OpKind.CREATE_COLLECTION:
        return _create(catalog, op)
    if op.op is OpKind.DROP_COLLECTION:
        return _drop(catalog, op)
    collection = catalog.collections.get(op.collection)
    if collection is None or collection.created > op.version:
        # A write to a collection this node does not have (dropped since, or
        # created by a region whose create has not arrived): nothing to do.
        log.debug("op %s for unknown collection %s skipped", op.op, op.collection)
        return Outcome(skipped_unknown_collection=True)
    if op.op is OpKind.UPSERT:
        upserted = collection.apply_upsert(op.records, op.version)
        return Outcome(changed=bool(upserted), upserted=upserted)
    deleted = collection.apply_delete(op.ids, op.version)
    return Outcome(changed=bool(deleted), deleted=deleted)
