"""Reading a live WAL from a sequence on, as it grows, without ever changing it.

``WriteAheadLog.replay`` is for start-up: it cuts a torn tail in place. A
reader that follows the log while the node appends (replication publishing
the node's own writes) must never write, and must tell a frame still being
written from a finished one. ``WalTail`` keeps its place (segment and byte
offset) and reads only whole, checksummed frames up to a sequence the caller
knows is written; it stops at anything else and tries again on the next
call. It is blocking file I/O: run ``read`` in a thread.

A segment with a later one beside it is finished (the log closes a segment
before it opens the next), so a bad frame there is damage the start-up
checks let through: the reader says so and goes on with the next segment.
Frames are checked by ``wal_scan``, the one reader of the frame layout.
"""

from __future__ import annotations

import logging
from pathlib import Path

from ruvstream.storage.wal import WalEntry
from ruvstream.storage.wal_scan import HEADER, SEQ, body_length, read_frame

__all__ = ["WalTail"]

log = logging.getLogger(__name__)
_END, _BOUND, _DAMAGED = "end", "bound", "damaged"


def _first_seq(path: Path) -> int:
    return int(path.stem.split("-")[1])


class WalTail:
    def __init__(self, directory: Path, after_seq: int) -> None:
        self.directory = directory
        self.position = after_seq
        """Every entry at or below it has been read (or was never there)."""
        self._segment: Path | None = None
        self._offset = 0

    def _seek(self, segments: list[Path]) -> Path | None:
        """The segment the entry after ``position`` is in: the last one named at or below it."""
        starting = [p for p in segments if _first_seq(p) <= self.position + 1]
        return starting[-1] if starting else (segments[0] if segments else None)

    def read(self, max_entries: int, through_seq: int) -> list[WalEntry]:
        """Up to ``max_entries`` whole entries after ``position``, none above ``through_seq``.

        The directory is listed only to find a segment to start in or a later
        one to go on with, not on a read that ends in its segment: a follower
        reading each few frames just written would pay a listing every call."""
        entries: list[WalEntry] = []
        while len(entries) < max_entries and self.position < through_seq:
            if self._segment is None:
                self._segment, self._offset = self._seek(self._segments()), 0
            if self._segment is None:
                break
            try:
                stop = self._read_segment(self._segment, entries, max_entries, through_seq)
            except FileNotFoundError:  # pruned meanwhile: everything in it was read before
                self._segment = None
                continue
            if stop == _BOUND or self.position >= through_seq:
                break  # resume here next time
            later = [p for p in self._segments() if p > self._segment]
            if not later:
                break  # in the newest segment the rest is not written yet
            if stop == _DAMAGED:
                log.error(
                    "WAL %s: unreadable frame at offset %d in a finished segment; going on with %s",
                    self._segment.name,
                    self._offset,
                    later[0].name,
                )
            self._segment, self._offset = later[0], 0
        return entries

    def _segments(self) -> list[Path]:
        return sorted(self.directory.glob("wal-*.log"))

    def _read_segment(
        self, path: Path, entries: list[WalEntry], max_entries: int, through_seq: int
    ) -> str:
        with path.open("rb") as f:
            f.seek(self._offset)
            while len(entries) < max_entries:
                header = f.read(HEADER.size)
                if not header:
                    return _END
                length = body_length(header) if len(header) == HEADER.size else None
                frame = None if length is None else read_frame(header + f.read(length), 0)
                if frame is None:
                    return _DAMAGED  # or still being written, in the newest segment
                if frame.seq > through_seq:
                    return _BOUND
                if frame.seq > self.position:
                    entries.append(WalEntry(frame.seq, frame.payload))
                    self.position = frame.seq
                self._offset += HEADER.size + len(frame.payload) + SEQ.size
        return _BOUND
