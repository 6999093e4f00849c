"""Reading WAL segments frame by frame, and finding what is wrong with them.

Pure functions over bytes: no files are opened here. ``scan_segment`` walks
one segment's frames; at a frame whose length or checksum does not hold it
records the damage and looks for the next intact frame (``next_frame``), so
a report says both where the damage starts and what survives after it.
``find_trouble`` then reads the reports of every segment in order and names
the first problem a replay must not step over:

- damage followed by nothing intact (in its segment or any later one) is a
  torn tail: a write cut short by a crash, cut and forgotten;
- damage followed by an intact frame, or a sequence gap among the entries a
  replay needs, is lost data: the caller refuses, or quarantines.
"""

from __future__ import annotations

import struct
import zlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np

__all__ = [
    "Damage",
    "Frame",
    "SegmentReport",
    "Trouble",
    "body_length",
    "find_trouble",
    "iter_frames",
    "next_frame",
    "read_frame",
    "scan_segment",
]

HEADER = struct.Struct("<II")
SEQ = struct.Struct("<Q")
MAX_FRAME = 256 * 1024 * 1024
_MIN_FRAME = HEADER.size + SEQ.size


@dataclass(frozen=True, slots=True)
class Frame:
    offset: int
    seq: int
    payload: bytes


@dataclass(frozen=True, slots=True)
class Damage:
    """Bytes from ``offset`` to ``end`` of ``segment`` hold no intact frame."""

    segment: str
    offset: int
    end: int
    reason: str

    def __str__(self) -> str:
        return f"{self.segment} at byte {self.offset}: {self.reason}"


@dataclass(slots=True)
class SegmentReport:
    """What one segment holds: its intact frames' sequences, gaps and damage."""

    name: str
    size: int
    frames: int = 0
    first_seq: int | None = None
    last_seq: int | None = None
    good_end: int = 0
    """Where the intact frames before the first damage end."""
    seqs: list[tuple[int, int]] = field(default_factory=list)
    """(offset, seq) of every intact frame, in file order."""
    damage: list[Damage] = field(default_factory=list)

    def frames_after(self, offset: int) -> int:
        return sum(1 for at, _ in self.seqs if at > offset)


def body_length(data: bytes, offset: int = 0) -> int | None:
    """The body length the frame header at ``offset`` announces; None if no frame has it.

    A reader that pulls frames from a file reads this many bytes after the
    header and hands both to ``read_frame``, which checks the rest.
    """
    length: int = HEADER.unpack_from(data, offset)[0]
    return length if SEQ.size <= length <= MAX_FRAME else None


def _frame_at(data: bytes, offset: int) -> tuple[int, int] | None:
    """(seq, end offset) of an intact frame starting at ``offset``, else None."""
    if offset + _MIN_FRAME > len(data):
        return None
    length, crc = body_length(data, offset), HEADER.unpack_from(data, offset)[1]
    start = offset + HEADER.size
    if length is None or start + length > len(data):
        return None
    if zlib.crc32(memoryview(data)[start : start + length]) != crc:
        return None
    return SEQ.unpack_from(data, start)[0], start + length


def next_frame(data: bytes, start: int, after_seq: int) -> int | None:
    """The offset of the first intact frame at or after ``start`` whose sequence
    follows ``after_seq``; None if there is none.

    Every byte offset is a candidate. numpy reads the length and sequence at
    all offsets of a window at once (one strided view per residue mod 8), so
    only the few whose length fits and whose sequence is plausible pay a
    checksum; windows keep memory bounded and stop at the first frame found.
    """
    bound = after_seq + (len(data) - start) // _MIN_FRAME + 1
    last = len(data) - _MIN_FRAME  # the last offset a frame could start at
    for window in range(start, last + 1, _WINDOW):
        for offset in _candidates(data, window, min(window + _WINDOW, last + 1), after_seq, bound):
            if _frame_at(data, offset) is not None:
                return offset
    return None


_WINDOW = 1 << 20


def _candidates(data: bytes, start: int, stop: int, after_seq: int, bound: int) -> list[int]:
    """Offsets in ``[start, stop)`` whose header could begin a frame, in order."""
    found: list[int] = []
    for residue in range(8):
        first = start + (residue - start) % 8
        count = (stop - first + 7) // 8
        if count <= 0:
            continue
        lengths = np.ndarray((count,), "<u4", buffer=data, offset=first, strides=(8,))
        seqs = np.ndarray((count,), "<u8", buffer=data, offset=first + HEADER.size, strides=(8,))
        offsets = first + 8 * np.arange(count, dtype=np.int64)
        room = len(data) - offsets - HEADER.size
        fits = (lengths >= SEQ.size) & (lengths.astype(np.int64) <= room)
        plausible = (seqs > after_seq) & (seqs <= bound)
        found.extend(int(o) for o in offsets[fits & plausible])
    return sorted(found)


def read_frame(data: bytes, offset: int) -> Frame | None:
    """The intact frame starting at ``offset``, if there is one."""
    found = _frame_at(data, offset)
    if found is None:
        return None
    seq, after = found
    return Frame(offset, seq, bytes(data[offset + _MIN_FRAME : after]))


def iter_frames(data: bytes, stop: int | None = None) -> Iterable[Frame]:
    """The intact frames from the start of ``data`` up to the first damage (or ``stop``)."""
    offset, end = 0, len(data) if stop is None else stop
    while offset < end and (found := _frame_at(data, offset)) is not None:
        seq, after = found
        yield Frame(offset, seq, bytes(data[offset + _MIN_FRAME : after]))
        offset = after


def scan_segment(name: str, data: bytes) -> SegmentReport:
    """Every intact frame of a segment, and every damaged range between them."""
    report = SegmentReport(name, len(data))
    offset, last_seq = 0, 0
    while offset < len(data):
        found = _frame_at(data, offset)
        if found is None:
            resume = next_frame(data, offset + 1, last_seq)
            end = len(data) if resume is None else resume
            report.damage.append(Damage(name, offset, end, _why(data, offset)))
            if resume is None:
                break
            offset = resume
            continue
        seq, after = found
        report.seqs.append((offset, seq))
        if not report.damage:
            report.good_end = after
        last_seq, offset = seq, after
    report.frames = len(report.seqs)
    if report.seqs:
        report.first_seq, report.last_seq = report.seqs[0][1], report.seqs[-1][1]
    return report


def _why(data: bytes, offset: int) -> str:
    if offset + HEADER.size > len(data):
        return f"a frame header cut short ({len(data) - offset} bytes)"
    length, _ = HEADER.unpack_from(data, offset)
    if length < SEQ.size or length > MAX_FRAME:
        return f"an impossible frame length {length}"
    if offset + HEADER.size + length > len(data):
        return f"a frame of {length} bytes cut short"
    return "a frame whose checksum does not match"


@dataclass(frozen=True, slots=True)
class Trouble:
    """The first problem in the WAL: ``torn`` if only a crash's cut-off tail."""

    segment: int
    """Index into the reports of the segment it is in."""
    offset: int
    reason: str
    name: str
    torn: bool
    kept_through: int
    """The last sequence before the problem (0 if none)."""

    def __str__(self) -> str:
        return f"{self.name} at byte {self.offset}: {self.reason}"


def find_trouble(
    reports: Sequence[SegmentReport],
    after_seq: int = 0,
    known_gaps: Sequence[tuple[int, int]] = (),
) -> Trouble | None:
    """The first damage or needed-entry gap, in log order; None if the WAL is sound.

    ``after_seq``: entries at or below it are covered elsewhere (a snapshot),
    so a gap below it, or damage whose next intact frame is at most
    ``after_seq + 1``, is no loss and is stepped over. ``known_gaps``:
    inclusive ranges of sequences an operator already had quarantined.
    """
    previous: int | None = None
    for index, report in enumerate(reports):
        events = sorted([*report.seqs, *((d.offset, -1) for d in report.damage)])
        for offset, seq in events:
            if seq < 0:  # damage: what follows it decides whether anything needed is in it
                resume = _seq_after(reports, index, offset)
                if resume is not None and resume <= after_seq + 1:
                    continue
                reason = next(d.reason for d in report.damage if d.offset == offset)
                return Trouble(index, offset, reason, report.name, resume is None, previous or 0)
            missing = _missing(previous, seq, after_seq)
            if missing is not None and not _known(missing, known_gaps):
                low, high = missing
                reason = f"sequence gap: entries {low}..{high} are missing"
                return Trouble(index, offset, reason, report.name, False, previous or 0)
            previous = seq
    return None


def _seq_after(reports: Sequence[SegmentReport], index: int, offset: int) -> int | None:
    """The sequence of the first intact frame after ``offset`` of ``reports[index]``."""
    for at, seq in reports[index].seqs:
        if at > offset:
            return seq
    for report in reports[index + 1 :]:
        if report.seqs:
            return report.seqs[0][1]
    return None


def _missing(previous: int | None, seq: int, after_seq: int) -> tuple[int, int] | None:
    """The range of needed sequences missing before ``seq``, if any."""
    low = after_seq + 1 if previous is None else max(previous + 1, after_seq + 1)
    if previous is None and seq <= after_seq + 1:
        return None
    if seq - 1 >= low:
        return low, seq - 1
    return None


def _known(missing: tuple[int, int], known_gaps: Sequence[tuple[int, int]]) -> bool:
    return any(low <= missing[0] and missing[1] <= high for low, high in known_gaps)
