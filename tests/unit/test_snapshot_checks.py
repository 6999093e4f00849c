"""Snapshot checksums: every file and the manifest checked; damage goes aside."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ruvstream.storage.snapshot import SnapshotDamageError, SnapshotStore, verify_snapshot
from tests.unit.test_snapshot import take


def flip_byte(path: Path, at: int) -> None:
    data = bytearray(path.read_bytes())
    data[at] ^= 0x01
    path.write_bytes(bytes(data))


def test_a_fresh_snapshot_verifies(tmp_path: Path) -> None:
    path = take(SnapshotStore(tmp_path), 4, "four")
    manifest = verify_snapshot(path)
    assert manifest["seq"] == 4 and set(manifest["files"]) == {"data.txt"}


@pytest.mark.parametrize(
    ("damage", "reason"),
    [
        (lambda p: flip_byte(p / "data.txt", 1), "data.txt checksum"),
        (lambda p: (p / "data.txt").write_text("ten!!"), "data.txt holds 5 bytes"),
        (lambda p: (p / "data.txt").unlink(), "data.txt is missing"),
        (lambda p: flip_byte(p / "manifest.json", 30), "manifest.json"),
    ],
)
def test_damage_is_named(tmp_path: Path, damage: object, reason: str) -> None:
    path = take(SnapshotStore(tmp_path), 4, "four")
    damage(path)  # type: ignore[operator]
    with pytest.raises(SnapshotDamageError, match=reason):
        verify_snapshot(path)


def test_an_edited_manifest_fails_its_own_checksum(tmp_path: Path) -> None:
    path = take(SnapshotStore(tmp_path), 4, "four")
    manifest = json.loads((path / "manifest.json").read_text())
    manifest["note"] = "forty"
    (path / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(SnapshotDamageError, match="checksum does not match its content"):
        verify_snapshot(path)


def test_seq_must_match_the_directory_but_a_renumbered_install_passes(tmp_path: Path) -> None:
    path = take(SnapshotStore(tmp_path), 4, "four")
    manifest = json.loads((path / "manifest.json").read_text())
    manifest["seq"] = 7
    (path / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(SnapshotDamageError, match="seq 7"):
        verify_snapshot(path)
    # What a peer's snapshot installed as the first of a new node looks like.
    installed = path.rename(tmp_path / "snap-00000000000000000000-bootstrap")
    manifest["seq"] = 0
    (installed / "manifest.json").write_text(json.dumps(manifest, sort_keys=True))
    assert verify_snapshot(installed)["seq"] == 0


def test_damaged_newest_goes_aside_and_the_older_one_is_used(tmp_path: Path) -> None:
    store = SnapshotStore(tmp_path)
    older = take(store, 3, "three")
    newest = take(store, 9, "nine")
    flip_byte(newest / "data.txt", 0)
    assert store.retained_seqs() == [3, 9]

    latest = store.latest()
    assert latest is not None and latest[0] == older
    assert store.retained_seqs() == [3], "the damaged one no longer counts as retained"
    assert (tmp_path / "quarantine" / newest.name / "data.txt").exists(), "kept whole"


def test_a_manifest_without_checksums_is_trusted(tmp_path: Path) -> None:
    path = tmp_path / "snap-00000000000000000005-legacy"
    path.mkdir()
    (path / "manifest.json").write_text(json.dumps({"seq": 5, "collections": []}))
    assert verify_snapshot(path)["seq"] == 5


def test_a_directory_not_named_by_a_sequence_is_no_snapshot(tmp_path: Path) -> None:
    store = SnapshotStore(tmp_path)
    take(store, 2, "two")
    stray = tmp_path / "snap-copy"
    stray.mkdir()
    (stray / "manifest.json").write_text("{}")
    assert store.retained_seqs() == [2]
