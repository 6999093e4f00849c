"""Write-ahead log: length-prefixed, checksummed frames in numbered segments.

Frame layout (little-endian)::

    u32 length of body | u32 crc32 of body | body = u64 seq + payload

A frame is written with one ``write`` call before the write it carries is
acknowledged, so a ``kill -9`` never loses an acknowledged write (the bytes
are in the kernel); ``fsync`` policy decides what a power cut can lose:

- ``batch``: every group of concurrent appends is fsynced before any of them
  is acknowledged (group commit: one fsync per batch, not per write);
- ``interval``: fsync every ``interval`` seconds in the background;
- ``off``: never fsync (the kernel flushes when it likes).

Replay stops at the first frame whose length or checksum does not hold: that
is a write torn by a crash, never acknowledged. The segment is truncated
there so new frames never follow garbage.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import os
import struct
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

__all__ = ["FSYNC_POLICIES", "WalEntry", "WriteAheadLog"]

FSYNC_POLICIES = ("batch", "interval", "off")
_HEADER = struct.Struct("<II")
_SEQ = struct.Struct("<Q")
_MAX_FRAME = 256 * 1024 * 1024
_SEGMENT_BYTES = 64 * 1024 * 1024
log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class WalEntry:
    seq: int
    payload: bytes


def _segment_name(first_seq: int) -> str:
    return f"wal-{first_seq:020d}.log"


def _frame(seq: int, payload: bytes) -> bytes:
    body = _SEQ.pack(seq) + payload
    return _HEADER.pack(len(body), zlib.crc32(body)) + body


def _read_segment(path: Path) -> tuple[list[WalEntry], int]:
    """The good frames of one segment and the byte offset where they end."""
    data = path.read_bytes()
    entries: list[WalEntry] = []
    offset = 0
    while offset + _HEADER.size <= len(data):
        length, crc = _HEADER.unpack_from(data, offset)
        start = offset + _HEADER.size
        body = data[start : start + length]
        if length < _SEQ.size or length > _MAX_FRAME or len(body) < length:
            break
        if zlib.crc32(body) != crc:
            break
        entries.append(WalEntry(_SEQ.unpack_from(body)[0], bytes(body[_SEQ.size :])))
        offset = start + length
    return entries, offset


class WriteAheadLog:
    def __init__(self, directory: Path, *, fsync: str = "batch", interval: float = 0.05) -> None:
        if fsync not in FSYNC_POLICIES:
            raise ValueError(f"fsync policy must be one of {FSYNC_POLICIES}, not {fsync!r}")
        self.directory = directory
        self.fsync_policy = fsync
        self.interval = interval
        self.last_seq = 0
        self.bytes_written = 0
        self.fsyncs = 0
        self._file: int | None = None
        self._segment_bytes = 0
        self._pending: list[asyncio.Future[None]] = []
        self._dirty = False
        self._sync_task: asyncio.Task[None] | None = None
        self._interval_task: asyncio.Task[None] | None = None
        directory.mkdir(parents=True, exist_ok=True)

    # -- opening and replay ---------------------------------------------------
    def segments(self) -> list[Path]:
        return sorted(self.directory.glob("wal-*.log"))

    def replay(self, after_seq: int = 0) -> Iterator[WalEntry]:
        """Every intact entry with ``seq > after_seq``, in log order.

        Truncates a torn tail in place, so call it before ``open_for_append``.
        """
        for path in self.segments():
            entries, good_end = _read_segment(path)
            size = path.stat().st_size
            if good_end < size:
                log.warning(
                    "WAL %s: dropping %d bytes of a torn or corrupt frame at offset %d",
                    path.name,
                    size - good_end,
                    good_end,
                )
                with path.open("r+b") as f:
                    f.truncate(good_end)
                    os.fsync(f.fileno())
            for entry in entries:
                self.last_seq = max(self.last_seq, entry.seq)
                if entry.seq > after_seq:
                    yield entry

    def open_for_append(self, min_seq: int = 0) -> None:
        """Start a fresh segment; sequence numbers continue after every one seen."""
        self.last_seq = max(self.last_seq, min_seq)
        self._rotate()

    def _rotate(self) -> None:
        if self._file is not None:
            os.fsync(self._file)
            os.close(self._file)
        path = self.directory / _segment_name(self.last_seq + 1)
        self._file = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
        self._segment_bytes = 0
        _fsync_dir(self.directory)

    # -- appending -------------------------------------------------------------
    def append_nowait(self, payload: bytes) -> int:
        """Write one frame to the kernel; returns its sequence number."""
        if self._file is None:
            raise RuntimeError("the WAL is not open for appending")
        if self._segment_bytes >= _SEGMENT_BYTES:
            self._rotate()
        self.last_seq += 1
        frame = _frame(self.last_seq, payload)
        os.write(self._file, frame)
        self._segment_bytes += len(frame)
        self.bytes_written += len(frame)
        self._dirty = True
        return self.last_seq

    async def append(self, payload: bytes) -> int:
        """Append and wait until the fsync policy says the frame is durable."""
        seq = self.append_nowait(payload)
        await self.wait_durable()
        return seq

    async def wait_durable(self) -> None:
        """Under the ``batch`` policy, wait for the group fsync covering every
        frame written so far; the other policies acknowledge at once."""
        if self.fsync_policy != "batch":
            return
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._pending.append(future)
        if self._sync_task is None or self._sync_task.done():
            self._sync_task = asyncio.get_running_loop().create_task(self._sync_pending())
        await future

    async def _sync_pending(self) -> None:
        loop = asyncio.get_running_loop()
        while self._pending:
            waiting, self._pending = self._pending, []
            try:
                await loop.run_in_executor(None, self.sync)
            except OSError as exc:
                for future in waiting:
                    future.set_exception(exc)
                continue
            for future in waiting:
                if not future.done():
                    future.set_result(None)

    def sync(self) -> None:
        if self._file is not None and self._dirty:
            self._dirty = False
            os.fsync(self._file)
            self.fsyncs += 1

    def start_interval_sync(self) -> None:
        if self.fsync_policy == "interval" and self._interval_task is None:
            self._interval_task = asyncio.get_running_loop().create_task(self._interval_loop())

    async def _interval_loop(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            await asyncio.sleep(self.interval)
            await loop.run_in_executor(None, self.sync)

    # -- truncation and closing --------------------------------------------------
    def checkpoint(self, covered_seq: int) -> int:
        """Start a new segment and delete segments wholly at or below ``covered_seq``."""
        self._rotate()
        segments = self.segments()
        removed = 0
        for path, following in itertools.pairwise(segments):
            next_first = int(following.stem.split("-")[1])
            if next_first - 1 <= covered_seq:
                path.unlink()
                removed += 1
        return removed

    async def close(self) -> None:
        if self._interval_task is not None:
            self._interval_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._interval_task
            self._interval_task = None
        if self._sync_task is not None:
            await self._sync_task
        if self._file is not None:
            os.fsync(self._file)
            os.close(self._file)
            self._file = None


def _fsync_dir(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
