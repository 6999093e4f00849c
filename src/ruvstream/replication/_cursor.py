"""The publish cursor: how far this node's own WAL is known to be on the bus.

``seq`` = N says every local op with WAL sequence <= N was stored by the bus
(a publish acknowledged); the publisher resumes after it, so ops written
while the bus was away, or before a kill -9, are published on the next run.
The file is one JSON line with a checksum, replaced atomically (write a
temporary file, fsync, rename, fsync the directory), so it is either the old
cursor or the new one.

A cursor that cannot be trusted is never guessed at: a missing file, one for
another stream, or a damaged one (bad JSON, bad checksum: the disk, not a
crash, since the write is atomic) restarts from 0, which republishes every
local op still in the WAL. That is safe, not lossy: the WAL keeps every entry
after the cursor (``hold_wal``), so nothing unpublished was ever pruned, and
a publish the bus already holds is a duplicate that last-writer-wins turns
into a no-op. A damaged file is moved aside (``<name>.damaged``) and logged
as an error, so the operator sees it happened.
"""

from __future__ import annotations

import json
import logging
import os
import threading
import zlib
from pathlib import Path

__all__ = ["CursorDamagedError", "PublishCursor", "decode_cursor", "encode_cursor"]

log = logging.getLogger(__name__)
_FORMAT = 1


class CursorDamagedError(ValueError):
    """The cursor file does not hold a cursor this code wrote."""


def _check(stream: str, seq: int) -> int:
    return zlib.crc32(f"{_FORMAT}:{stream}:{seq}".encode())


def encode_cursor(stream: str, seq: int) -> bytes:
    body = {"format": _FORMAT, "stream": stream, "seq": seq, "check": _check(stream, seq)}
    return json.dumps(body, sort_keys=True).encode() + b"\n"


def decode_cursor(data: bytes) -> tuple[str, int]:
    """``(stream, seq)``; raises ``CursorDamagedError`` on anything else."""
    try:
        body = json.loads(data)
        stream, seq, check = body["stream"], body["seq"], body["check"]
        fmt = body["format"]
    except (ValueError, KeyError, TypeError) as exc:
        raise CursorDamagedError(f"not a publish cursor: {exc}") from None
    if fmt != _FORMAT or not isinstance(stream, str) or type(seq) is not int or seq < 0:
        raise CursorDamagedError(f"not a publish cursor: {body!r}")
    if check != _check(stream, seq):
        raise CursorDamagedError("publish cursor checksum does not match")
    return stream, seq


class PublishCursor:
    """The cursor of one stream in one file; blocking I/O (run it in a thread)."""

    def __init__(self, path: Path, stream: str) -> None:
        self.path = path
        self.stream = stream
        self._lock = threading.Lock()  # a cancelled save may still run beside the last one

    def load(self) -> int:
        """The stored sequence, or 0 (republish what the WAL holds) when there is
        none to trust."""
        try:
            data = self.path.read_bytes()
        except FileNotFoundError:
            return 0
        try:
            stream, seq = decode_cursor(data)
        except CursorDamagedError as exc:
            aside = self.path.with_name(self.path.name + ".damaged")
            os.replace(self.path, aside)
            log.error(
                "publish cursor %s is damaged (%s); moved to %s. Republishing every local op "
                "the WAL still holds (duplicates are no-ops on the other regions)",
                self.path,
                exc,
                aside.name,
            )
            return 0
        if stream != self.stream:
            log.warning(
                "publish cursor %s is for stream %r, not %r: republishing every local op "
                "the WAL still holds",
                self.path,
                stream,
                self.stream,
            )
            return 0
        return seq

    def store(self, seq: int) -> None:
        with self._lock:
            self._store(seq)

    def _store(self, seq: int) -> None:
        temporary = self.path.with_name(self.path.name + ".tmp")
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
        try:
            os.write(fd, encode_cursor(self.stream, seq))
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(temporary, self.path)
        directory = os.open(self.path.parent, os.O_RDONLY)
        try:
            os.fsync(directory)
        finally:
            os.close(directory)
