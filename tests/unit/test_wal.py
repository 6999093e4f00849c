"""The write-ahead log: round trips, torn tails, checkpoints and fsync policies."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from ruvstream.storage.wal import WriteAheadLog


def payloads(n: int) -> list[bytes]:
    return [f"op-{i}".encode() * (i % 7 + 1) for i in range(n)]


async def written(directory: Path, data: list[bytes], fsync: str = "batch") -> list[int]:
    wal = WriteAheadLog(directory, fsync=fsync, interval=0.01)
    list(wal.replay())
    wal.open_for_append()
    wal.start_interval_sync()
    seqs = [await wal.append(p) for p in data]
    await wal.close()
    return seqs


def replayed(directory: Path, after: int = 0) -> list[tuple[int, bytes]]:
    return [(e.seq, e.payload) for e in WriteAheadLog(directory).replay(after)]


@pytest.mark.parametrize("fsync", ["batch", "interval", "off"])
async def test_every_policy_replays_what_was_appended(tmp_path: Path, fsync: str) -> None:
    data = payloads(50)
    seqs = await written(tmp_path, data, fsync)
    assert seqs == list(range(1, 51))
    assert replayed(tmp_path) == list(zip(seqs, data, strict=True))
    assert replayed(tmp_path, after=40) == list(zip(seqs[40:], data[40:], strict=True))


async def test_concurrent_appends_share_group_fsyncs(tmp_path: Path) -> None:
    wal = WriteAheadLog(tmp_path, fsync="batch")
    wal.open_for_append()
    seqs = await asyncio.gather(*(wal.append(p) for p in payloads(100)))
    assert sorted(seqs) == list(range(1, 101))
    assert 1 <= wal.fsyncs < 100, "one fsync covers a group of appends"
    await wal.close()
    assert len(replayed(tmp_path)) == 100


async def test_sequence_continues_across_reopen(tmp_path: Path) -> None:
    await written(tmp_path, payloads(5))
    seqs = await written(tmp_path, [b"later"])
    assert seqs == [6]
    assert [s for s, _ in replayed(tmp_path)] == [1, 2, 3, 4, 5, 6]


def corrupt_last_frame(path: Path, how: str) -> None:
    data = bytearray(path.read_bytes())
    if how == "truncate":
        del data[-3:]
    else:
        data[-2] ^= 0xFF
    path.write_bytes(bytes(data))


@pytest.mark.parametrize("how", ["truncate", "flip"])
async def test_torn_last_frame_is_dropped_and_truncated(tmp_path: Path, how: str) -> None:
    data = payloads(20)
    await written(tmp_path, data)
    (segment,) = WriteAheadLog(tmp_path).segments()
    intact_size = segment.stat().st_size
    corrupt_last_frame(segment, how)

    survivors = replayed(tmp_path)
    assert survivors == list(zip(range(1, 20), data[:19], strict=True))
    frame_size = 8 + 8 + len(data[19])
    assert segment.stat().st_size == intact_size - frame_size, "cut exactly at the bad frame"

    # New frames follow the good ones, never garbage.
    seqs = await written(tmp_path, [b"after-crash"])
    assert seqs == [20]
    assert replayed(tmp_path)[-2:] == [(19, data[18]), (20, b"after-crash")]


async def test_checkpoint_deletes_covered_segments_only(tmp_path: Path) -> None:
    wal = WriteAheadLog(tmp_path, fsync="off")
    wal.open_for_append()
    for p in payloads(10):
        await wal.append(p)
    assert wal.checkpoint(covered_seq=5) == 0, "segment 1..10 is not wholly covered"
    for p in payloads(5):
        await wal.append(p)  # seq 11..15 in the second segment
    assert len(wal.segments()) == 2
    removed = wal.checkpoint(covered_seq=12)
    assert removed == 1, "1..10 goes; 11..15 holds uncovered entries and stays"
    await wal.close()
    # Replay resumes after the snapshot that covered the dropped segment.
    assert [s for s, _ in replayed(tmp_path, after=10)] == [11, 12, 13, 14, 15]
    assert [s for s, _ in replayed(tmp_path, after=12)] == [13, 14, 15]


def test_unknown_fsync_policy_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError):
        WriteAheadLog(tmp_path, fsync="sometimes")


def test_append_before_open_is_refused(tmp_path: Path) -> None:
    with pytest.raises(RuntimeError):
        WriteAheadLog(tmp_path).append_nowait(b"x")
