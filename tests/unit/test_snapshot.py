"""Snapshot directories: atomic publish, leftovers, latest-wins and pruning."""

from __future__ import annotations

from pathlib import Path

from ruvstream.storage.snapshot import SnapshotStore


def take(store: SnapshotStore, seq: int, content: str) -> Path:
    staging = store.begin()
    (staging / "data.txt").write_text(content)
    return store.commit(staging, seq, {"note": content})


def test_latest_wins_and_carries_its_manifest(tmp_path: Path) -> None:
    store = SnapshotStore(tmp_path)
    assert store.latest() is None
    take(store, 5, "five")
    path = take(store, 9, "nine")
    latest = store.latest()
    assert latest is not None
    assert latest[0] == path
    assert {k: latest[1][k] for k in ("note", "seq")} == {"note": "nine", "seq": 9}
    assert latest[1]["files"]["data.txt"]["bytes"] == 4
    assert (path / "data.txt").read_text() == "nine"


def test_pruning_keeps_two(tmp_path: Path) -> None:
    store = SnapshotStore(tmp_path)
    paths = [take(store, seq, str(seq)) for seq in (1, 2, 3, 4)]
    assert store.snapshots() == paths[-2:]
    assert not paths[0].exists() and not paths[1].exists()


def test_snapshots_of_one_seq_keep_the_newest(tmp_path: Path) -> None:
    """Nothing changed between them: each new one is still the latest, never pruned."""
    store = SnapshotStore(tmp_path)
    for n in range(6):
        path = take(store, 7, f"copy {n}")
        latest = store.latest()
        assert latest is not None and latest[0] == path
        assert latest[1]["note"] == f"copy {n}"
    assert len(store.snapshots()) == 2


def test_leftover_tmp_dir_is_removed_and_ignored(tmp_path: Path) -> None:
    store = SnapshotStore(tmp_path)
    take(store, 3, "three")
    crashed = store.begin()  # a snapshot interrupted before its rename
    (crashed / "manifest.json").write_text('{"seq": 99}')
    latest = store.latest()
    assert latest is not None and latest[1]["seq"] == 3, "tmp dirs are never a snapshot"

    reopened = SnapshotStore(tmp_path)
    assert not crashed.exists()
    latest = reopened.latest()
    assert latest is not None and latest[1]["seq"] == 3


def test_unreadable_manifest_falls_back_to_the_previous(tmp_path: Path) -> None:
    store = SnapshotStore(tmp_path)
    take(store, 1, "one")
    broken = take(store, 2, "two")
    (broken / "manifest.json").write_text("{not json")
    latest = store.latest()
    assert latest is not None and latest[1]["seq"] == 1


def test_abort_removes_staging(tmp_path: Path) -> None:
    store = SnapshotStore(tmp_path)
    staging = store.begin()
    store.abort(staging)
    assert not staging.exists()
    assert store.latest() is None
