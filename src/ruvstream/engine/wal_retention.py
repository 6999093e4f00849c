"""How far a checkpoint may drop the WAL: no entry a holder still needs.

A snapshot covers the WAL through some sequence, but covering is not the
only reason to keep an entry: replication must still publish the local
writes the bus has not stored, and a fallback to an older snapshot needs
the entries after it. Each such part of the node registers a *holder*: a
callable answering the first WAL sequence it still needs (every entry from
it on is kept). ``floor`` is what the snapshot policy hands the WAL's
checkpoint: the snapshot's covered sequence, lowered below every holder's
first needed entry.

Invariant: after ``wal.checkpoint(retention.floor(covered))`` every entry
with ``seq >= first_needed()`` of every holder is still on disk.
"""

from __future__ import annotations

from collections.abc import Callable

__all__ = ["FirstNeeded", "WalRetention"]

FirstNeeded = Callable[[], int]
"""The first WAL sequence a holder still needs; ``last_seq + 1`` (or more) when none."""


class WalRetention:
    def __init__(self) -> None:
        self._holders: dict[str, FirstNeeded] = {}

    def hold(self, name: str, first_needed: FirstNeeded) -> None:
        """Keep every entry from ``first_needed()`` on; a later hold of one name replaces it."""
        self._holders[name] = first_needed

    def release(self, name: str) -> None:
        self._holders.pop(name, None)

    @property
    def holders(self) -> tuple[str, ...]:
        return tuple(sorted(self._holders))

    def floor(self, covered: int) -> int:
        """The highest sequence a checkpoint may drop through, never above ``covered``."""
        needed = [first() - 1 for first in self._holders.values()]
        return max(0, min([covered, *needed]))
