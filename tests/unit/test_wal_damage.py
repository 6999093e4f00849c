"""WAL damage before the tail: found, named, refused or quarantined; never skipped."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ruvstream.storage.wal import WalDamageError, WriteAheadLog
from ruvstream.storage.wal_scan import find_trouble, next_frame, scan_segment
from tests.unit.test_wal import payloads, replayed, written


def flip(path: Path, offset: int) -> None:
    data = bytearray(path.read_bytes())
    data[offset] ^= 0x10
    path.write_bytes(bytes(data))


def frame_offsets(path: Path) -> list[int]:
    return [offset for offset, _ in scan_segment(path.name, path.read_bytes()).seqs]


async def test_a_bit_flipped_mid_segment_is_damage_with_its_offset(tmp_path: Path) -> None:
    await written(tmp_path, payloads(30))
    (segment,) = WriteAheadLog(tmp_path).segments()
    at = frame_offsets(segment)[15]
    flip(segment, at + 12)  # inside the body of the frame holding seq 16

    report = scan_segment(segment.name, segment.read_bytes())
    assert report.frames == 29, "every frame after the damage is still found"
    assert [d.offset for d in report.damage] == [at]
    trouble = find_trouble([report])
    assert trouble is not None and not trouble.torn
    assert (trouble.offset, trouble.kept_through) == (at, 15)


async def test_a_damaged_length_field_is_stepped_over_to_the_next_frame(tmp_path: Path) -> None:
    await written(tmp_path, payloads(30))
    (segment,) = WriteAheadLog(tmp_path).segments()
    offsets = frame_offsets(segment)
    data = bytearray(segment.read_bytes())
    data[offsets[10] + 3] = 0x7F  # the length now promises far more than the file holds
    assert next_frame(bytes(data), offsets[10] + 1, 10) == offsets[11]
    report = scan_segment(segment.name, bytes(data))
    assert report.frames == 29 and report.damage[0].offset == offsets[10]


async def test_strict_refuses_and_changes_nothing(tmp_path: Path) -> None:
    await written(tmp_path, payloads(30))
    (segment,) = WriteAheadLog(tmp_path).segments()
    at = frame_offsets(segment)[15]
    flip(segment, at + 12)
    before = segment.read_bytes()

    with pytest.raises(WalDamageError) as raised:
        list(WriteAheadLog(tmp_path).replay())
    message = str(raised.value)
    assert "\n" not in message
    assert f"{segment} at byte {at}" in message
    assert raised.value.segment == segment and raised.value.offset == at
    assert segment.read_bytes() == before, "strict never touches the log"


async def test_truncate_keeps_every_frame_before_and_moves_the_segment_aside(
    tmp_path: Path,
) -> None:
    data = payloads(30)
    await written(tmp_path, data)
    first = WriteAheadLog(tmp_path).segments()[0]
    await written(tmp_path, [b"second segment"])  # seq 31, in a later segment
    at = frame_offsets(first)[15]
    flip(first, at + 12)
    damaged = first.read_bytes()

    wal = WriteAheadLog(tmp_path, recovery="truncate")
    assert [(e.seq, e.payload) for e in wal.replay()] == list(
        zip(range(1, 16), data[:15], strict=True)
    )
    (moved_dir,) = (tmp_path / "quarantine").iterdir()
    assert (moved_dir / first.name).read_bytes() == damaged, "moved whole, never rewritten"
    assert len(list(moved_dir.glob("wal-*.log"))) == 2, "the later segment goes aside too"
    ledger = json.loads((moved_dir / "dropped.json").read_text())
    assert (ledger["kept_through"], ledger["highest_seen"]) == (15, 31)
    assert wal.last_seq == 31, "new writes never reuse a dropped sequence"

    # The next start (strict) knows that gap: it was quarantined, not lost anew.
    seqs = await written(tmp_path, [b"after"])
    assert seqs == [32]
    assert [s for s, _ in replayed(tmp_path)] == [*range(1, 16), 32]


async def test_a_missing_middle_segment_is_a_gap(tmp_path: Path) -> None:
    for _ in range(3):
        await written(tmp_path, payloads(5))
    segments = WriteAheadLog(tmp_path).segments()
    assert len(segments) == 3
    segments[1].unlink()
    with pytest.raises(WalDamageError, match=r"entries 6\.\.10 are missing"):
        list(WriteAheadLog(tmp_path).replay())
    # Entries a snapshot covers are no loss: replay after seq 10 needs 11.. only.
    assert [s for s, _ in replayed(tmp_path, after=10)] == [11, 12, 13, 14, 15]


async def test_a_wal_that_starts_after_the_snapshot_does_not_cover_it(tmp_path: Path) -> None:
    for _ in range(2):
        await written(tmp_path, payloads(5))
    WriteAheadLog(tmp_path).segments()[0].unlink()  # pruned as if a snapshot covered 1..5
    assert [s for s, _ in replayed(tmp_path, after=5)] == [6, 7, 8, 9, 10]
    with pytest.raises(WalDamageError, match=r"entries 3\.\.5 are missing"):
        list(WriteAheadLog(tmp_path).replay(after_seq=2))


def test_unknown_recovery_mode_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError):
        WriteAheadLog(tmp_path, recovery="sometimes")


async def test_damage_a_snapshot_covers_is_stepped_over(tmp_path: Path) -> None:
    data = payloads(30)
    await written(tmp_path, data)
    (segment,) = WriteAheadLog(tmp_path).segments()
    flip(segment, frame_offsets(segment)[15] + 12)  # seq 16
    # A snapshot through seq 16 needs nothing from the damaged frame: 17.. replay.
    assert replayed(tmp_path, after=16) == list(zip(range(17, 31), data[16:], strict=True))
    with pytest.raises(WalDamageError):
        list(WriteAheadLog(tmp_path, recovery="strict").replay(after_seq=15))


async def test_frames_after_a_long_damaged_stretch_are_found(tmp_path: Path) -> None:
    await written(tmp_path, payloads(30))
    (segment,) = WriteAheadLog(tmp_path).segments()
    offsets = frame_offsets(segment)
    data = segment.read_bytes()
    garbage = bytes(range(256)) * (6 * 1024 + 3)  # about 1.5 MB: past one scan window
    segment.write_bytes(data[: offsets[10]] + garbage + data[offsets[10] :])
    report = scan_segment(segment.name, segment.read_bytes())
    assert report.frames == 30
    assert [(d.offset, d.end) for d in report.damage] == [(offsets[10], offsets[10] + len(garbage))]
