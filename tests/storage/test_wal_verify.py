"""``ruvstream wal verify`` on a real node's data dir: clean, torn, damaged."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from ruvstream.testing import running_node
from tests.storage.helpers import flip_mid_segment, write_records

VERIFY = [sys.executable, "-m", "ruvstream", "wal", "verify"]


@pytest.fixture(scope="module")
def written(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A data dir whose WAL holds 100 records in 21 frames (killed: no final snapshot)."""
    data_dir = tmp_path_factory.mktemp("verify") / "n"
    with running_node(data_dir) as node:
        write_records(node.url, 100)
        node.kill()
    return data_dir


def verify(data_dir: Path, *args: str) -> tuple[int, str]:
    done = subprocess.run(
        [*VERIFY, str(data_dir), *args], capture_output=True, text=True, timeout=120, check=False
    )
    assert "Traceback" not in done.stderr, done.stderr
    return done.returncode, done.stdout


def copy_of(data_dir: Path, tmp_path: Path) -> Path:
    target = tmp_path / "copy"
    subprocess.run(["cp", "-a", str(data_dir), str(target)], check=True)
    return target


def test_a_clean_wal_reports_frames_and_sequences(written: Path) -> None:
    code, out = verify(written, "--json")
    assert code == 0
    report = json.loads(out)
    assert report["verdict"] == "ok" and report["problem"] is None
    frames = [s for s in report["segments"] if s["frames"]]
    assert sum(s["frames"] for s in frames) == 21
    assert (frames[0]["first_seq"], frames[-1]["last_seq"]) == (1, 21)
    assert all(not s["gaps"] and not s["damage"] for s in report["segments"])

    code, text = verify(written)
    assert code == 0 and text.splitlines()[0] == f"{written}: ok"


def test_a_bit_flip_mid_segment_is_damage_with_segment_and_offset(
    written: Path, tmp_path: Path
) -> None:
    data_dir = copy_of(written, tmp_path)
    segment, offset, _ = flip_mid_segment(data_dir / "wal")
    before = segment.read_bytes()

    code, out = verify(data_dir, "--json")
    assert code == 1
    report = json.loads(out)
    assert report["verdict"] == "damaged"
    assert report["problem"].startswith(f"{segment} at byte {offset}: ")
    (entry,) = [s for s in report["segments"] if s["name"] == segment.name]
    assert entry["frames"] == 20, "frames after the damage are still counted"
    assert [d["offset"] for d in entry["damage"]] == [offset]
    assert segment.read_bytes() == before, "verify changes nothing"

    code, text = verify(data_dir)
    assert code == 1 and f"damage at byte {offset}.." in text


def test_a_torn_tail_is_reported_but_not_damage(written: Path, tmp_path: Path) -> None:
    data_dir = copy_of(written, tmp_path)
    segment = max((data_dir / "wal").glob("wal-*.log"), key=lambda p: p.stat().st_size)
    segment.write_bytes(segment.read_bytes()[:-7])
    code, out = verify(data_dir, "--json")
    assert code == 0
    assert json.loads(out)["verdict"] == "torn-tail"


def test_a_missing_segment_is_a_gap(written: Path, tmp_path: Path) -> None:
    data_dir = copy_of(written, tmp_path)
    with running_node(data_dir) as node:  # a second segment, then a third
        write_records(node.url, 10, start=100)
        node.kill()
    with running_node(data_dir) as node:
        write_records(node.url, 10, start=110)
        node.kill()
    segments = [p for p in sorted((data_dir / "wal").glob("wal-*.log")) if p.stat().st_size]
    assert len(segments) == 3
    segments[1].unlink()
    code, out = verify(data_dir, "--json")
    assert code == 1
    report = json.loads(out)
    assert "sequence gap: entries 22..23 are missing" in report["problem"]
    assert [g["first"] for s in report["segments"] for g in s["gaps"]] == [22]
