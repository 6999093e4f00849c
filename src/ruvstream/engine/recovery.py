"""Snapshots of a catalog, and restart = last snapshot + WAL tail.

Replay is safe to overlap with a snapshot: apply is idempotent (last-writer-
wins on versions), so an op both inside a snapshot and in the replayed tail
changes nothing the second time. A snapshot therefore only has to cover a
sequence number at or below every op it might not contain.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import msgspec

from ruvstream.core.records import CollectionSpecData, decode_op, encode_op
from ruvstream.core.spec import CollectionSpec
from ruvstream.engine.apply import Catalog, apply_op
from ruvstream.engine.collection import Collection
from ruvstream.engine.idempotency import answer_for
from ruvstream.storage.snapshot import SnapshotStore
from ruvstream.storage.wal import WalDamageError, WriteAheadLog

__all__ = ["Recovered", "recover", "write_snapshot"]

log = logging.getLogger(__name__)
PARKED_FILE = "parked.msgpack"


@dataclass
class Recovered:
    catalog: Catalog
    snapshot_seq: int = 0
    replayed: int = 0
    max_hlc: int = 0
    extras: dict[str, Any] = field(default_factory=dict)
    idempotency: list[list[Any]] = field(default_factory=list)
    keyed_ops: list[tuple[str, str, int, dict[str, Any]]] = field(default_factory=list)
    """(collection, key, hlc, answer) of replayed ops that carried a key."""


def _load_snapshot(path: Path, manifest: dict[str, Any], catalog: Catalog) -> None:
    for entry in manifest["collections"]:
        spec = CollectionSpec(**entry["spec"])
        created = (int(entry["created"][0]), str(entry["created"][1]))
        catalog.collections[entry["name"]] = Collection.load(
            path / entry["dir"], entry["name"], spec, created
        )
    catalog.dropped = {k: (int(v[0]), str(v[1])) for k, v in manifest["dropped"].items()}
    for name, creates in manifest.get("creates", {}).items():
        catalog.creates[name] = {
            (int(hlc), str(origin)): CollectionSpecData(**spec) for hlc, origin, spec in creates
        }
    parked = path / PARKED_FILE
    if parked.exists():
        for raw in msgspec.msgpack.decode(parked.read_bytes(), type=list[bytes]):
            op = decode_op(raw)
            catalog.parked.setdefault(op.collection, []).append(op)


def recover(store: SnapshotStore, wal: WriteAheadLog, catalog: Catalog | None = None) -> Recovered:
    """Rebuild a catalog from disk, into ``catalog`` (empty) if given: the node's
    parts hold its catalog, so it is filled, never replaced. The WAL is left
    ready for ``open_for_append``.

    The newest snapshot that passes its checks and loads is used; a damaged
    one is set aside and the next older one tried. The WAL must then hold
    every entry after the chosen snapshot (checkpoints keep them for every
    retained snapshot): if it does not, ``WalDamageError`` says what is missing.
    """
    catalog = Catalog() if catalog is None else catalog
    recovered = Recovered(catalog)
    for path, manifest in store.usable():
        try:
            _load_snapshot(path, manifest, catalog)
        except Exception as exc:  # checksums held, yet it does not load: same fallback
            _clear(catalog)
            store.set_aside(path, f"does not load: {type(exc).__name__}: {exc}".splitlines()[0])
            continue
        recovered = Recovered(
            catalog,
            snapshot_seq=int(manifest["seq"]),
            max_hlc=int(manifest.get("hlc", 0)),
            extras=dict(manifest.get("extras", {})),
            idempotency=list(manifest.get("idempotency", [])),
        )
        log.info("loaded snapshot %s (seq %d)", path.name, recovered.snapshot_seq)
        break
    try:
        for entry in wal.replay(after_seq=recovered.snapshot_seq):
            op = decode_op(entry.payload)
            apply_op(recovered.catalog, op)
            recovered.replayed += 1
            recovered.max_hlc = max(recovered.max_hlc, op.hlc)
            if op.key:
                recovered.keyed_ops.append((op.collection, op.key, op.hlc, answer_for(op)))
    except WalDamageError as exc:
        seq = recovered.snapshot_seq
        base = f"after the snapshot of seq {seq}" if seq else "at seq 1: no usable snapshot"
        raise WalDamageError(
            f"{exc} (replay starts {base})", segment=exc.segment, offset=exc.offset
        ) from None
    log.info("replayed %d WAL entries after seq %d", recovered.replayed, recovered.snapshot_seq)
    return recovered


def _clear(catalog: Catalog) -> None:
    catalog.collections.clear()
    catalog.dropped.clear()
    catalog.creates.clear()
    catalog.parked.clear()


def write_snapshot(
    store: SnapshotStore,
    catalog: Catalog,
    covered_seq: int,
    *,
    hlc: int,
    extras: dict[str, Any],
    idempotency: list[list[Any]],
) -> Path:
    """Write every collection and a manifest; blocking (run it in an executor)."""
    staging = store.begin()
    try:
        entries = []
        for number, (name, collection) in enumerate(list(catalog.collections.items())):
            directory = f"c{number:05d}"
            collection.save(staging / directory)
            entries.append(
                {
                    "name": name,
                    "dir": directory,
                    "spec": collection.spec.as_dict(),
                    "created": list(collection.created),
                }
            )
        parked = [encode_op(op) for ops in catalog.parked.values() for op in ops]
        (staging / PARKED_FILE).write_bytes(msgspec.msgpack.encode(parked))
        manifest = {
            "collections": entries,
            "dropped": {k: list(v) for k, v in catalog.dropped.items()},
            "creates": {
                name: [[v[0], v[1], msgspec.structs.asdict(spec)] for v, spec in creates.items()]
                for name, creates in catalog.creates.items()
            },
            "hlc": hlc,
            "extras": extras,
            "idempotency": idempotency,
        }
        return store.commit(staging, covered_seq, manifest)
    except BaseException:
        store.abort(staging)
        raise
