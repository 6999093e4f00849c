"""The publish cursor file and the WAL tail the publisher reads from.

A cursor is trusted only when it is whole and for this stream; anything else
restarts from 0 (republish what the WAL holds, a safe older point), and a
damaged file is moved aside. The tail reads a live WAL without changing it:
never past the bound it is given, never a frame still being written.
"""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from ruvstream.replication._cursor import (
    CursorDamagedError,
    PublishCursor,
    decode_cursor,
    encode_cursor,
)
from ruvstream.storage.wal import WriteAheadLog
from ruvstream.storage.wal_tail import WalTail


def test_a_cursor_round_trips_and_survives_a_reopen(tmp_path: Path) -> None:
    path = tmp_path / "cursor.json"
    assert PublishCursor(path, "s").load() == 0  # none yet: from the start of the WAL
    PublishCursor(path, "s").store(41)
    PublishCursor(path, "s").store(42)
    assert PublishCursor(path, "s").load() == 42
    assert decode_cursor(encode_cursor("s", 42)) == ("s", 42)
    assert not (tmp_path / "cursor.json.tmp").exists()


@pytest.mark.parametrize(
    "damage",
    [
        b"",
        b"\x00\x00\x00",
        b'{"format": 1, "stream": "s", "se',  # torn
        b"not json at all",
        b'{"format": 1, "stream": "s", "seq": 99, "check": 1}',  # checksum off
        b'{"format": 1, "stream": "s", "seq": -1, "check": 0}',
        b'{"format": 2, "stream": "s", "seq": 5, "check": 0}',
        b"[1, 2, 3]",
    ],
)
def test_a_damaged_cursor_restarts_from_zero_and_is_moved_aside_loudly(
    tmp_path: Path, damage: bytes, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "cursor.json"
    path.write_bytes(damage)
    with pytest.raises(CursorDamagedError):
        decode_cursor(damage)
    with caplog.at_level(logging.ERROR):
        assert PublishCursor(path, "s").load() == 0
    assert "damaged" in caplog.text
    assert not path.exists()
    assert (tmp_path / "cursor.json.damaged").read_bytes() == damage
    PublishCursor(path, "s").store(3)  # and the next save starts a good file
    assert PublishCursor(path, "s").load() == 3


def test_a_cursor_of_another_stream_is_not_trusted(tmp_path: Path) -> None:
    path = tmp_path / "cursor.json"
    PublishCursor(path, "old-stream").store(500)
    assert PublishCursor(path, "new-stream").load() == 0
    assert path.exists()  # not damage: the next save replaces it


async def _wal(directory: Path, payloads: list[bytes]) -> WriteAheadLog:
    wal = WriteAheadLog(directory, fsync="off")
    list(wal.replay())
    wal.open_for_append()
    for payload in payloads:
        wal.append_nowait(payload)
    return wal


async def test_the_tail_follows_a_growing_wal_within_its_bound(tmp_path: Path) -> None:
    wal = await _wal(tmp_path, [b"p%d" % i for i in range(1, 11)])
    tail = WalTail(tmp_path, after_seq=3)
    got = tail.read(4, through_seq=100)
    assert [(e.seq, e.payload) for e in got] == [(s, b"p%d" % s) for s in range(4, 8)]
    assert [e.seq for e in tail.read(100, through_seq=9)] == [8, 9]
    assert tail.position == 9
    assert tail.read(100, through_seq=9) == []
    wal.append_nowait(b"p11")
    assert [e.seq for e in tail.read(100, through_seq=11)] == [10, 11]
    await wal.close()


async def test_the_tail_crosses_segments_and_skips_pruned_ones(tmp_path: Path) -> None:
    wal = await _wal(tmp_path, [b"a", b"b", b"c"])
    tail = WalTail(tmp_path, after_seq=0)
    assert [e.seq for e in tail.read(2, through_seq=10)] == [1, 2]
    wal.checkpoint(0)  # a new segment; nothing pruned
    wal.append_nowait(b"d")
    wal.append_nowait(b"e")
    assert [e.seq for e in tail.read(100, through_seq=10)] == [3, 4, 5]
    wal.checkpoint(5)  # prunes every finished segment
    wal.append_nowait(b"f")
    assert [e.seq for e in tail.read(100, through_seq=10)] == [6]
    late = WalTail(tmp_path, after_seq=2)  # its entries were pruned: starts at what is left
    assert [e.seq for e in late.read(100, through_seq=10)] == [6]
    await wal.close()


async def test_the_tail_never_takes_or_cuts_a_frame_still_being_written(tmp_path: Path) -> None:
    wal = await _wal(tmp_path, [b"whole-1", b"whole-2"])
    await wal.close()
    segment = wal.segments()[-1]
    whole = segment.read_bytes()
    with segment.open("ab") as f:  # half a frame: its length says more follows
        f.write(b"\x40\x00\x00\x00\x00\x00")
    tail = WalTail(tmp_path, after_seq=0)
    assert [e.payload for e in tail.read(100, through_seq=10)] == [b"whole-1", b"whole-2"]
    assert tail.read(100, through_seq=10) == []
    assert segment.read_bytes()[: len(whole)] == whole
    assert segment.stat().st_size == len(whole) + 6  # untouched: replay, not the tail, cuts
