"""Hybrid logical clock (Kulkarni et al. 2014) packed into one int64.

A timestamp is ``physical_ms << 16 | logical``: it sorts like the wall clock
when clocks agree, never goes backwards on one node, and always exceeds every
timestamp the node has seen (``observe``), so causally later writes win
last-writer-wins ties. Versions compare as ``(hlc, origin)``: a total order.
"""

from __future__ import annotations

import threading

from ruvstream.core.clock import Clock, SystemClock

__all__ = ["LOGICAL_BITS", "HybridLogicalClock", "Version", "physical_ms"]

LOGICAL_BITS = 16
_LOGICAL_MASK = (1 << LOGICAL_BITS) - 1

Version = tuple[int, str]
"""(hlc, origin region): the last-writer-wins order of every write."""


def physical_ms(hlc: int) -> int:
    return hlc >> LOGICAL_BITS


class HybridLogicalClock:
    def __init__(self, clock: Clock | None = None) -> None:
        self._clock = clock or SystemClock()
        self._last = 0
        self._lock = threading.Lock()

    @property
    def last(self) -> int:
        return self._last

    def _wall(self) -> int:
        return int(self._clock.now() * 1000) << LOGICAL_BITS

    def tick(self) -> int:
        """A new timestamp for a local event, greater than any issued or seen."""
        with self._lock:
            wall = self._wall()
            self._last = wall if wall > self._last else self._last + 1
            return self._last

    def observe(self, remote: int) -> int:
        """Merge a timestamp received from elsewhere (replication, WAL replay)."""
        with self._lock:
            wall = self._wall()
            self._last = max(wall, self._last + 1, remote + 1)
            return self._last
