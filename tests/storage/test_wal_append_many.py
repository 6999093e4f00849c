"""Frames appended as one batch are the frames appended one by one."""

from __future__ import annotations

from pathlib import Path

from ruvstream.storage.wal import WriteAheadLog


async def test_a_batch_writes_the_same_bytes_and_sequences_as_single_appends(
    tmp_path: Path,
) -> None:
    payloads = [b"first", b"", b"x" * 300, b"last"]
    single = WriteAheadLog(tmp_path / "single")
    single.open_for_append()
    expected = [single.append_nowait(p) for p in payloads]
    await single.close()
    batched = WriteAheadLog(tmp_path / "batched")
    batched.open_for_append()
    assert batched.append_many_nowait(payloads) == expected == [1, 2, 3, 4]
    assert batched.append_many_nowait([]) == []
    assert batched.append_nowait(b"after") == 5
    await batched.close()

    (one,) = single.segments()
    (many,) = batched.segments()
    assert many.read_bytes().startswith(one.read_bytes())
    replayed = WriteAheadLog(tmp_path / "batched")
    assert [(e.seq, e.payload) for e in replayed.replay()] == [
        *zip(expected, payloads, strict=True),
        (5, b"after"),
    ]
