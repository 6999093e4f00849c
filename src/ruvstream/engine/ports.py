"""Narrow interfaces the node offers its collaborators, so none reaches into it.

``ReplicationPort`` is all replication may use of a node: apply an op from
elsewhere, hear of local writes, report health, keep its position in state
that snapshots carry, keep WAL entries it has not published yet, read its
WAL as it grows (to publish from it), keep a small file in its data dir, and
ask whether the node holds any data at all.
``Node`` implements it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, Protocol

from prometheus_client import CollectorRegistry

from ruvstream.core.records import OpRecord
from ruvstream.engine.wal_retention import FirstNeeded
from ruvstream.engine.write_pipeline import WriteListener
from ruvstream.storage.wal_tail import WalTail

__all__ = ["HealthReporter", "ReplicationPort"]

HealthReporter = Callable[[], dict[str, Any]]
"""Fields for ``/health``; ``degraded: true`` in any report degrades the node."""


class ReplicationPort(Protocol):
    @property
    def node_id(self) -> str: ...

    @property
    def region(self) -> str: ...

    @property
    def metrics_registry(self) -> CollectorRegistry:
        """Where replication registers its metrics, beside the node's."""

    async def apply_remote(self, op: OpRecord) -> bool:
        """Log and apply an op from another node; durable once this returns.
        Returns whether it changed anything (last-writer-wins may drop it)."""

    async def apply_remote_batch(self, ops: Sequence[OpRecord]) -> list[bool]:
        """``apply_remote`` for many ops, in order, with one WAL group commit."""

    def add_write_listener(self, listener: WriteListener) -> None:
        """Hear of every local write once it is applied and logged."""

    def add_health_reporter(self, reporter: HealthReporter) -> None: ...

    def replication_state(self, name: str) -> dict[str, Any]:
        """The state last set under ``name`` (restored from a snapshot on open); {} if none."""

    def set_replication_state(self, name: str, state: dict[str, Any]) -> None:
        """Keep ``state`` under ``name``: every snapshot from now on carries it."""

    def hold_wal(self, name: str, first_needed: FirstNeeded) -> None:
        """Keep every WAL entry from ``first_needed()`` on (ops not yet published)."""

    def wal_tail(self, after_seq: int) -> WalTail:
        """A reader of the WAL after ``after_seq`` that never changes the log."""

    def durable_through(self) -> int:
        """Every WAL entry at or below it is durable (by the fsync policy) and applied."""

    def state_path(self, name: str) -> Path:
        """A file of the data dir kept for ``name`` alone (replication's publish cursor)."""

    def holds_data(self) -> bool:
        """Whether the node holds anything: a logged write or a collection."""
