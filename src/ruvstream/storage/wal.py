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

Replay first scans every segment (``wal_scan``). A bad frame with nothing
intact after it is a write torn by a crash: the segment is cut there, so
new frames never follow garbage. Anything else (a bad frame with intact
frames after it, or entries missing between the snapshot and the end) is
lost data, and ``recovery`` decides: ``strict`` refuses to start
(``WalDamageError`` names the segment and byte offset); ``truncate`` keeps
every frame before the damage and moves the damaged segment and every later
one aside (``wal_quarantine``), and sequence numbers continue after the
highest one seen, so no later write reuses a number a dropped frame held.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import os
import zlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from ruvstream.storage._fsync import fsync_path
from ruvstream.storage.wal_quarantine import known_gaps, quarantine
from ruvstream.storage.wal_scan import (
    HEADER,
    SEQ,
    SegmentReport,
    Trouble,
    find_trouble,
    read_frame,
    scan_segment,
)

__all__ = ["FSYNC_POLICIES", "WAL_RECOVERY_MODES", "WalDamageError", "WalEntry", "WriteAheadLog"]

FSYNC_POLICIES = ("batch", "interval", "off")
WAL_RECOVERY_MODES = ("strict", "truncate")
_SEGMENT_BYTES = 64 * 1024 * 1024
log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class WalEntry:
    seq: int
    payload: bytes


def _segment_name(first_seq: int) -> str:
    return f"wal-{first_seq:020d}.log"


def _frame(seq: int, payload: bytes) -> bytes:  # layout: see wal_scan
    body = SEQ.pack(seq) + payload
    return HEADER.pack(len(body), zlib.crc32(body)) + body


class WalDamageError(RuntimeError):
    """The WAL lost entries before its tail; ``str()`` is one line for the operator."""

    def __init__(self, message: str, *, segment: Path, offset: int) -> None:
        super().__init__(message)
        self.segment = segment
        self.offset = offset


class WriteAheadLog:
    def __init__(
        self,
        directory: Path,
        *,
        fsync: str = "batch",
        interval: float = 0.05,
        recovery: str = "strict",
    ) -> None:
        if fsync not in FSYNC_POLICIES:
            raise ValueError(f"fsync policy must be one of {FSYNC_POLICIES}, not {fsync!r}")
        if recovery not in WAL_RECOVERY_MODES:
            raise ValueError(f"WAL recovery must be one of {WAL_RECOVERY_MODES}, not {recovery!r}")
        self.recovery = recovery
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

    def inspect(self) -> list[SegmentReport]:
        """What every segment holds (frames, sequences, damage); changes nothing."""
        return [scan_segment(path.name, path.read_bytes()) for path in self.segments()]

    def replay(self, after_seq: int = 0) -> Iterator[WalEntry]:
        """Every intact entry with ``seq > after_seq``, in log order.

        Entries at or below ``after_seq`` are covered by a snapshot, so only a
        gap above it is a loss. Cuts a torn tail in place (call it before
        ``open_for_append``); raises ``WalDamageError`` on damage before the
        tail unless ``recovery`` is ``truncate``.
        """
        segments = self.segments()
        reports = [scan_segment(path.name, path.read_bytes()) for path in segments]
        dropped = known_gaps(self.directory)
        # Numbers continue after every one ever used: those a quarantined frame
        # held, and the one an empty newest segment was named for.
        self.last_seq = max([self.last_seq, *(high for _, high in dropped)])
        if segments:
            self.last_seq = max(self.last_seq, _first_seq(segments[-1]) - 1)
        trouble = find_trouble(reports, after_seq, dropped)
        if trouble is not None:
            self._handle(trouble, segments, reports)
            segments = segments[: trouble.segment + 1]
        for index, path in enumerate(segments):
            stop = trouble.offset if trouble and index == trouble.segment else None
            # The scan's offsets, not a fresh walk: damage a snapshot covers is
            # stepped over, and the frames after it are still replayed.
            data = path.read_bytes()
            for offset, _ in reports[index].seqs:
                if stop is not None and offset >= stop:
                    break
                frame = read_frame(data, offset)
                if frame is None:  # changed since the scan: never skip it silently
                    raise WalDamageError(
                        f"WAL {path} changed during replay at byte {offset}",
                        segment=path,
                        offset=offset,
                    )
                self.last_seq = max(self.last_seq, frame.seq)
                if frame.seq > after_seq:
                    yield WalEntry(frame.seq, frame.payload)

    def _handle(self, trouble: Trouble, segments: list[Path], reports: list[SegmentReport]) -> None:
        path = segments[trouble.segment]
        if trouble.torn:
            for later in segments[trouble.segment :]:
                size = later.stat().st_size
                cut = trouble.offset if later == path else 0
                if size > cut:
                    log.warning(
                        "WAL %s: dropping %d bytes of a torn frame at offset %d (a write cut "
                        "short by a crash)",
                        later.name,
                        size - cut,
                        cut,
                    )
                    _truncate(later, cut)
            return
        lost = reports[trouble.segment].frames_after(trouble.offset - 1)
        lost += sum(r.frames for r in reports[trouble.segment + 1 :])
        highest = max((r.last_seq or 0 for r in reports), default=0)
        if self.recovery == "strict":
            raise WalDamageError(
                f"WAL damage in {path} at byte {trouble.offset}: {trouble.reason}; "
                f"{lost} intact frames after it (up to seq {highest}) would be lost. "
                f"Nothing was changed: inspect with `ruvstream wal verify`, or start with "
                f"--wal-recovery truncate to keep the entries through seq "
                f"{trouble.kept_through} and move the damaged segments aside",
                segment=path,
                offset=trouble.offset,
            )
        target = quarantine(
            self.directory,
            segments,
            trouble.segment,
            trouble.offset,
            kept_through=trouble.kept_through,
            highest_seen=highest,
            reason=str(trouble),
        )
        moved = len(segments) - trouble.segment
        log.error(
            "WAL recovery (truncate): %s. Kept every entry through seq %d; dropped %d intact "
            "frames after the damage (up to seq %d); moved %d segment(s) to %s",
            trouble,
            trouble.kept_through,
            lost,
            highest,
            moved,
            target,
        )
        self.last_seq = max(self.last_seq, highest)

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
        fsync_path(self.directory)

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

    def append_many_nowait(self, payloads: Sequence[bytes]) -> list[int]:
        """``append_nowait`` of each, in order, in one ``write`` call: a batch of
        ops from elsewhere costs one system call, not one per op."""
        if self._file is None:
            raise RuntimeError("the WAL is not open for appending")
        if self._segment_bytes >= _SEGMENT_BYTES:
            self._rotate()
        first = self.last_seq + 1
        seqs = list(range(first, first + len(payloads)))
        frames = b"".join(_frame(seq, payload) for seq, payload in zip(seqs, payloads, strict=True))
        view = memoryview(frames)
        while view:  # a regular file takes it whole; a short write would go on here
            view = view[os.write(self._file, view) :]
        if seqs:
            self.last_seq = seqs[-1]
        self._segment_bytes += len(frames)
        self.bytes_written += len(frames)
        self._dirty = True
        return seqs

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
            next_first = _first_seq(following)
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


def _first_seq(path: Path) -> int:
    return int(path.stem.split("-")[1])


def _truncate(path: Path, size: int) -> None:
    with path.open("r+b") as f:
        f.truncate(size)
        os.fsync(f.fileno())
