"""recover(): a snapshot that fails its checks or does not load gives way to an older one."""

from __future__ import annotations

import json
from pathlib import Path

from ruvstream.engine.apply import Catalog
from ruvstream.engine.recovery import recover, write_snapshot
from ruvstream.storage.snapshot import SnapshotStore
from ruvstream.storage.wal import WriteAheadLog
from tests.unit.test_index_choice import _filled


def snapshot_of(store: SnapshotStore, n: int, seq: int) -> Path:
    collection, _ = _filled("exact", n)
    return write_snapshot(
        store, Catalog(collections={"c": collection}), seq, hlc=2, extras={}, idempotency=[]
    )


def test_a_snapshot_that_does_not_load_is_set_aside_and_the_older_one_used(
    tmp_path: Path,
) -> None:
    store = SnapshotStore(tmp_path / "snapshots")
    snapshot_of(store, 10, 3)
    newest = snapshot_of(store, 20, 7)
    # Written before checksums (nothing to check), and its state file is garbage.
    manifest = json.loads((newest / "manifest.json").read_text())
    del manifest["checksum"], manifest["files"]
    (newest / "manifest.json").write_text(json.dumps(manifest))
    next(newest.glob("c*/state.msgpack")).write_bytes(b"\x00not msgpack")

    catalog = recover(store, WriteAheadLog(tmp_path / "wal")).catalog
    assert catalog.collections["c"].count == 10, "the older snapshot, loaded cleanly"
    assert (tmp_path / "snapshots" / "quarantine" / newest.name).is_dir()
    assert store.retained_seqs() == [3]
