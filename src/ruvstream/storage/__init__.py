"""Durable storage: the write-ahead log and snapshot directories."""

from ruvstream.storage.snapshot import SnapshotStore
from ruvstream.storage.wal import FSYNC_POLICIES, WalEntry, WriteAheadLog

__all__ = ["FSYNC_POLICIES", "SnapshotStore", "WalEntry", "WriteAheadLog"]
