"""A WAL damaged before its tail, as an operator meets it: real node processes."""

from __future__ import annotations

import json
from pathlib import Path

import httpx

from ruvstream.testing import running_node
from tests.storage.helpers import count, flip_mid_segment, missing, refused, write_records


def test_a_bit_flipped_mid_segment_stops_the_start_naming_segment_and_offset(
    tmp_path: Path,
) -> None:
    with running_node(tmp_path / "n") as node:
        write_records(node.url, 300)
        node.kill()  # no final snapshot: the WAL alone holds the 300 records
    segment, offset, _ = flip_mid_segment(tmp_path / "n" / "wal")
    damaged = segment.read_bytes()

    lines = refused(tmp_path / "n")
    assert len(lines) == 1, lines
    assert lines[0].startswith("ruvstream serve: WAL damage in ")
    assert f"{segment} at byte {offset}" in lines[0]
    assert "--wal-recovery truncate" in lines[0]
    assert segment.read_bytes() == damaged, "a refused start changes nothing on disk"
    assert not (tmp_path / "n" / "wal" / "quarantine").exists()


def test_truncate_keeps_every_frame_before_the_damage_and_moves_the_segment_aside(
    tmp_path: Path,
) -> None:
    with running_node(tmp_path / "n") as node:
        write_records(node.url, 300)
        node.kill()
    segment, _, before = flip_mid_segment(tmp_path / "n" / "wal")
    damaged = segment.read_bytes()
    assert 100 <= len(before) < 300

    with running_node(tmp_path / "n", args=("--wal-recovery", "truncate")) as node:
        assert httpx.get(f"{node.url}/health").json()["status"] == "ok"
        assert missing(node.url, before) == []
        assert count(node.url) == len(before)
        (moved,) = (tmp_path / "n" / "wal" / "quarantine").iterdir()
        assert (moved / segment.name).read_bytes() == damaged, "moved intact, not rewritten"
        ledger = json.loads((moved / "dropped.json").read_text())
        assert ledger["kept_through"] == len(before) // 5 + 1  # the create, then ops of 5
        assert "WAL recovery (truncate)" in (tmp_path / "n" / "node.log").read_text()
        later = write_records(node.url, 10, start=1000)
        node.kill()
    # The next start, strict again, knows the quarantined gap and loses nothing more.
    with running_node(tmp_path / "n") as node:
        assert missing(node.url, [*before, *later]) == []
