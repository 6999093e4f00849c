"""The one apply function: client writes, WAL replay and replication all end here.

``apply_op`` is synchronous and deterministic given the catalog's state and
the op; it takes collection locks itself and is safe to run in an executor.

Collection lifecycles follow last-writer-wins too, so replicas converge
whatever order creates, drops and writes arrive in:

- a drop at version ``d`` removes every record older than ``d`` (it is the
  collection's *floor*); records never go below their collection's floor;
- the live collection of a name is born of the earliest create newer than
  the latest drop (two regions creating it at once agree on one);
- a write that arrives before any create it could belong to is parked, and
  applied when that create arrives, instead of being lost.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from ruvstream.core.hlc import Version
from ruvstream.core.records import CollectionSpecData, OpKind, OpRecord
from ruvstream.core.spec import CollectionSpec
from ruvstream.engine.collection import AppliedUpsert, Collection
from ruvstream.engine.record_versions import NEVER

__all__ = ["MAX_PARKED_OPS", "NEVER", "Catalog", "Outcome", "apply_op"]

log = logging.getLogger(__name__)
MAX_PARKED_OPS = 100_000
"""Per collection name; past it the oldest parked write is forgotten (and logged)."""


@dataclass
class Catalog:
    """Every collection of a node, and what its lifecycle ops said."""

    collections: dict[str, Collection] = field(default_factory=dict)
    dropped: dict[str, Version] = field(default_factory=dict)
    """The latest drop version per name."""
    creates: dict[str, dict[Version, CollectionSpecData]] = field(default_factory=dict)
    """Every create version per name still newer than its latest drop."""
    parked: dict[str, list[OpRecord]] = field(default_factory=dict)
    """Writes waiting for their collection's create."""


@dataclass
class Outcome:
    """What an op changed: enough for replies, subscribers and metrics."""

    changed: bool = False
    upserted: list[AppliedUpsert] = field(default_factory=list)
    deleted: list[str] = field(default_factory=list)
    created: Collection | None = None
    dropped: Collection | None = None
    parked: bool = False

    def merge(self, other: Outcome) -> None:
        self.changed |= other.changed
        self.upserted += other.upserted
        self.deleted += other.deleted


def _reconcile(catalog: Catalog, name: str) -> Outcome:
    """Make ``catalog.collections[name]`` what the lifecycle ops seen so far say."""
    floor = catalog.dropped.get(name, NEVER)
    creates = catalog.creates.get(name, {})
    for version in [v for v in creates if v <= floor]:
        del creates[version]
    existing = catalog.collections.get(name)
    if not creates:
        if existing is None:
            return Outcome()
        del catalog.collections[name]
        return Outcome(changed=True, dropped=existing)
    born = min(creates)
    spec = CollectionSpec.from_data(creates[born])
    outcome = Outcome()
    collection = existing
    if collection is None or collection.spec != spec:
        collection = Collection(name, spec, born)
        catalog.collections[name] = collection
        outcome = Outcome(changed=True, created=collection, dropped=existing)
    collection.created = born
    if floor > collection.floor:
        gone = collection.truncate_below(floor)
        outcome.merge(Outcome(changed=bool(gone), deleted=gone))
    for op in catalog.parked.pop(name, []):
        outcome.merge(_write(catalog, op))
    return outcome


def _lifecycle(catalog: Catalog, op: OpRecord) -> Outcome:
    name = op.collection
    if op.op is OpKind.CREATE_COLLECTION:
        assert op.spec is not None
        if op.version <= catalog.dropped.get(name, NEVER):
            return Outcome()
        catalog.creates.setdefault(name, {})[op.version] = op.spec
    elif op.version > catalog.dropped.get(name, NEVER):
        catalog.dropped[name] = op.version
        parked = catalog.parked.get(name)
        if parked:
            catalog.parked[name] = [p for p in parked if p.version > op.version]
    return _reconcile(catalog, name)


def _write(catalog: Catalog, op: OpRecord) -> Outcome:
    collection = catalog.collections.get(op.collection)
    if collection is None:
        if op.version <= catalog.dropped.get(op.collection, NEVER):
            return Outcome()  # written before a drop we have seen: gone with it
        parked = catalog.parked.setdefault(op.collection, [])
        parked.append(op)
        if len(parked) > MAX_PARKED_OPS:
            lost = parked.pop(0)
            log.warning("forgot a parked write to %s at %s", op.collection, lost.version)
        return Outcome(parked=True)
    if op.op is OpKind.UPSERT:
        upserted = collection.apply_upsert(op.records, op.version)
        return Outcome(changed=bool(upserted), upserted=upserted)
    deleted = collection.apply_delete(op.ids, op.version)
    return Outcome(changed=bool(deleted), deleted=deleted)


def apply_op(catalog: Catalog, op: OpRecord) -> Outcome:
    if op.op in (OpKind.CREATE_COLLECTION, OpKind.DROP_COLLECTION):
        return _lifecycle(catalog, op)
    return _write(catalog, op)
