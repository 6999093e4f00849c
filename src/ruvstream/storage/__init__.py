"""Durable storage: the write-ahead log and snapshot directories."""

from ruvstream.storage.snapshot import SnapshotStore
from ruvstream.storage.wal import (
    FSYNC_POLICIES,
    WAL_RECOVERY_MODES,
    WalDamageError,
    WalEntry,
    WriteAheadLog,
)

__all__ = [
    "FSYNC_POLICIES",
    "WAL_RECOVERY_MODES",
    "SnapshotStore",
    "WalDamageError",
    "WalEntry",
    "WriteAheadLog",
]
