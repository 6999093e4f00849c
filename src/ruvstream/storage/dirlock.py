"""One node per data directory.

Two processes on one directory would interleave WAL segments and overwrite
each other's snapshots. The lock is an ``flock`` on ``LOCK`` in the
directory: the kernel drops it when the holder exits, ``kill -9`` included,
so a restart never finds a stale lock.
"""

from __future__ import annotations

import fcntl
import os
from pathlib import Path

__all__ = ["DataDirInUseError", "DataDirLock"]


class DataDirInUseError(RuntimeError):
    pass


class DataDirLock:
    def __init__(self, data_dir: Path) -> None:
        data_dir.mkdir(parents=True, exist_ok=True)
        path = data_dir / "LOCK"
        self._file = path.open("a+")
        try:
            fcntl.flock(self._file, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            self._file.seek(0)
            holder = self._file.read().strip() or "unknown"
            self._file.close()
            raise DataDirInUseError(
                f"data dir {data_dir} is in use by another ruvstream node (pid {holder})"
            ) from None
        self._file.seek(0)
        self._file.truncate()
        self._file.write(f"{os.getpid()}\n")
        self._file.flush()

    def release(self) -> None:
        if not self._file.closed:
            fcntl.flock(self._file, fcntl.LOCK_UN)
            self._file.close()
