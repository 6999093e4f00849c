"""Replication lag per source region, from heartbeats: pure, clock injected.

Each node heartbeats "I had published through bus sequence ``s``". A
receiver whose applied position reaches ``s`` was caught up with that node
at the moment the heartbeat arrived (the heartbeat approach of pt-heartbeat,
with receipt times on the receiver's own clock so clock skew never enters).

For one source node::

    lag = 0                          if every heartbeat is satisfied and the
                                     last one is fresh (within stale_after)
    lag = now - watermark            otherwise; watermark = receipt time of
                                     the newest satisfied heartbeat

A region's lag is the worst lag among its nodes heard from recently; if none
was (the region is cut off or down), it is the time since the region was last
confirmed caught up. So lag rises while a region is partitioned away or the
receiver falls behind, and falls back to 0 once it has caught up.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field

from ruvstream.core.clock import Clock

__all__ = ["LagTracker"]


@dataclass
class _SourceNode:
    region: str
    watermark: float
    last_heard: float
    pending: deque[tuple[int, float]] = field(default_factory=deque)

    def satisfy(self, position: int) -> None:
        while self.pending and self.pending[0][0] <= position:
            self.watermark = self.pending.popleft()[1]

    def lag(self, now: float, stale_after: float) -> float:
        if not self.pending and now - self.last_heard <= stale_after:
            return 0.0
        return max(0.0, now - self.watermark)


class LagTracker:
    def __init__(self, clock: Clock, *, stale_after: float, max_pending: int = 4096) -> None:
        self._clock = clock
        self._stale_after = stale_after
        self._max_pending = max_pending
        self._started = clock.monotonic()
        self._position = 0
        self._nodes: dict[str, _SourceNode] = {}

    @property
    def position(self) -> int:
        return self._position

    def on_heartbeat(self, region: str, node: str, published_seq: int) -> None:
        now = self._clock.monotonic()
        source = self._nodes.get(node)
        if source is None:
            source = self._nodes[node] = _SourceNode(region, self._started, now)
        source.region = region
        source.last_heard = now
        if published_seq <= self._position:
            source.pending.clear()
            source.watermark = now
            return
        source.pending.append((published_seq, now))
        if len(source.pending) > self._max_pending:
            source.pending.popleft()

    def on_applied(self, position: int) -> None:
        """The consumer has applied (or skipped) everything through ``position``."""
        if position <= self._position:
            return
        self._position = position
        for source in self._nodes.values():
            source.satisfy(position)

    def lags(self) -> dict[str, float]:
        """Lag in seconds per source region heard from so far."""
        now = self._clock.monotonic()
        live: dict[str, float] = {}
        silent: dict[str, float] = {}
        for source in self._nodes.values():
            lag = source.lag(now, self._stale_after)
            if now - source.last_heard <= self._stale_after:
                live[source.region] = max(live.get(source.region, 0.0), lag)
            else:
                silent[source.region] = min(silent.get(source.region, lag), lag)
        return {**silent, **live}
