"""A damaged newest snapshot falls back to an older one, and the WAL still covers the gap."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import pytest

from ruvstream.cli.wal import verify_data_dir
from ruvstream.testing import running_node
from tests.storage.helpers import count, missing, refused, write_records

SNAPSHOT_EVERY = ("--snapshot-every-ops", "20")


def snapshots(data_dir: Path) -> list[Path]:
    return sorted((data_dir / "snapshots").glob("snap-*"))


def written_with_snapshots(data_dir: Path, records: int = 600, at_least: int = 2) -> list[str]:
    """Write ``records`` through a node that snapshots every 20 ops, then kill -9 it
    once its snapshots settled (no final snapshot on the way out)."""
    with running_node(data_dir, args=SNAPSHOT_EVERY) as node:
        ids = write_records(node.url, records)
        deadline = time.monotonic() + 60
        while len(snapshots(data_dir)) < at_least or _snapshotting(data_dir):
            assert time.monotonic() < deadline, "two snapshots were never written"
            time.sleep(0.05)
        node.kill()
    return ids


def _snapshotting(data_dir: Path) -> bool:
    return any((data_dir / "snapshots").glob("tmp-*"))


def flip(path: Path) -> None:
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x01
    path.write_bytes(bytes(data))


DAMAGE: dict[str, Callable[[Path], None]] = {
    "manifest": lambda snap: flip(snap / "manifest.json"),
    "index file": lambda snap: flip(next(snap.glob("c*/index.faiss"))),
    "state file": lambda snap: flip(next(snap.glob("c*/state.msgpack"))),
}


@pytest.mark.parametrize("what", list(DAMAGE))
def test_a_damaged_newest_snapshot_loses_no_acknowledged_record(tmp_path: Path, what: str) -> None:
    data_dir = tmp_path / "n"
    ids = written_with_snapshots(data_dir)
    older, newest = snapshots(data_dir)[-2:]
    DAMAGE[what](newest)

    report = verify_data_dir(data_dir)  # what `ruvstream wal verify` prints
    assert [(s["name"], s["ok"]) for s in report["snapshots"]] == [
        (newest.name, False),
        (older.name, True),
    ]
    assert report["verdict"] == "ok", "the WAL after the older snapshot is all there"

    with running_node(data_dir) as node:
        assert missing(node.url, ids) == []
        assert count(node.url) == len(ids)
        log = (data_dir / "node.log").read_text()
        assert f"snapshot {newest.name} is damaged" in log
        assert (data_dir / "snapshots" / "quarantine" / newest.name).is_dir(), "kept aside"
        assert older.is_dir()


@pytest.mark.parametrize("what", list(DAMAGE))
def test_the_only_snapshot_damaged_leaves_the_whole_wal(tmp_path: Path, what: str) -> None:
    data_dir = tmp_path / "n"
    ids = written_with_snapshots(data_dir, records=100, at_least=1)  # 21 ops: one snapshot
    (only,) = snapshots(data_dir)
    DAMAGE[what](only)

    with running_node(data_dir) as node:
        assert missing(node.url, ids) == []
        assert count(node.url) == len(ids)


def test_no_usable_snapshot_and_a_pruned_wal_is_a_loud_refusal(tmp_path: Path) -> None:
    data_dir = tmp_path / "n"
    written_with_snapshots(data_dir)
    for snap in snapshots(data_dir):
        flip(snap / "manifest.json")

    *logged, line = refused(data_dir)
    assert sum("is damaged" in entry for entry in logged) == 2, logged
    assert line.startswith("ruvstream serve: WAL damage in ")
    assert "sequence gap: entries 1.." in line
    assert line.endswith("(replay starts at seq 1: no usable snapshot)")
