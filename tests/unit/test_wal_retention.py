"""WAL retention: a checkpoint keeps every entry some holder still needs."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

from ruvstream.config import NodeSettings, Settings, StorageSettings
from ruvstream.engine import Node
from ruvstream.engine.wal_retention import WalRetention
from tests.unit.conftest import create, record, upsert


def test_floor_is_the_covered_sequence_without_holders() -> None:
    assert WalRetention().floor(42) == 42


def test_floor_stays_below_every_holders_first_needed_entry() -> None:
    retention = WalRetention()
    retention.hold("publish", lambda: 10)
    retention.hold("fallback", lambda: 25)
    assert retention.floor(42) == 9
    assert retention.floor(5) == 5  # never above what the snapshot covers
    retention.hold("publish", lambda: 43)  # caught up: a later hold replaces it
    assert retention.floor(42) == 24
    retention.release("fallback")
    assert retention.floor(42) == 42
    assert retention.holders == ("publish",)


def test_floor_is_never_negative() -> None:
    retention = WalRetention()
    retention.hold("everything", lambda: 0)
    assert retention.floor(7) == 0


async def test_a_snapshot_keeps_the_wal_entries_a_holder_still_needs(tmp_path: Path) -> None:
    settings = Settings(
        node=NodeSettings(region="here", node_id="here-1"),
        storage=StorageSettings(data_dir=tmp_path, fsync="off"),
    )
    node = await Node.open(settings)
    try:
        node.hold_wal("unpublished", lambda: 2)
        await node.apply_remote(create(1, origin="elsewhere"))
        await node.snapshot()  # the only snapshot: its fallback (none) needs entry 1
        for i in range(2, 6):
            await node.apply_remote(upsert(i, record(f"r{i}", float(i)), origin="elsewhere"))
        await node.snapshot()  # covers 2..5 too, but the holder needs them
        kept = [seq for report in node.wal.inspect() for _, seq in report.seqs]
        assert kept == [2, 3, 4, 5]
        node.hold_wal("unpublished", lambda: node.wal_seq + 1)
        await node.snapshot()
        assert [seq for report in node.wal.inspect() for _, seq in report.seqs] == []
    finally:
        await node.close(snapshot=False)


async def test_snapshots_read_at_once_each_see_their_whole_directory(tmp_path: Path) -> None:
    """Four bootstraps at once: the third snapshot would prune the first (two are kept)
    while the first is still being archived, unless each read runs before the next write."""
    settings = Settings(
        node=NodeSettings(region="here", node_id="here-1"),
        storage=StorageSettings(data_dir=tmp_path, fsync="off"),
    )
    node = await Node.open(settings)
    try:
        await node.apply_remote(create(1, origin="elsewhere"))
        await node.apply_remote(upsert(2, record("r", 1.0), origin="elsewhere"))

        def read(path: Path) -> list[str]:
            time.sleep(0.05)  # an archive takes a while; later snapshots are waiting
            return sorted(str(p.relative_to(path)) for p in path.rglob("*"))

        seen = await asyncio.gather(*(node.snapshot_read(read) for _ in range(4)))
        assert all("manifest.json" in files for files in seen)
        assert all(files == seen[0] for files in seen)
    finally:
        await node.close(snapshot=False)
