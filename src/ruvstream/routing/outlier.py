"""Outlier ejection: take a node out of rotation when its errors stand out.

Envoy's passive health checking, reduced to what a router with a handful of
nodes per region needs:

* ``consecutive_errors`` failures in a row eject a node at once;
* at each ``sweep`` (every ``interval`` seconds), a node with at least
  ``min_volume`` calls whose failure rate exceeds both ``failure_rate`` and the
  mean of its peers by ``spread`` is ejected (its errors stand out; when every
  node fails alike the cause is elsewhere and nobody is ejected);
* an ejection lasts ``base_ejection * times_ejected`` seconds, capped at
  ``max_ejection``;
* at most ``max_ejected_share`` of the nodes are ejected at once, but always
  at least one may be: a region never ejects all its nodes this way (the
  circuit breaker and active probes handle nodes that are simply down).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ruvstream.core.clock import Clock

__all__ = ["OutlierConfig", "OutlierDetector"]


@dataclass(frozen=True, slots=True)
class OutlierConfig:
    consecutive_errors: int = 5
    failure_rate: float = 0.5
    spread: float = 0.3
    min_volume: int = 20
    base_ejection: float = 10.0
    max_ejection: float = 300.0
    max_ejected_share: float = 0.34


@dataclass(slots=True)
class _Stats:
    calls: int = 0
    failures: int = 0
    consecutive: int = 0
    times_ejected: int = 0
    ejected_until: float = field(default=0.0)


class OutlierDetector:
    def __init__(self, config: OutlierConfig, clock: Clock) -> None:
        self.config = config
        self._clock = clock
        self._stats: dict[str, _Stats] = {}
        self.ejections = 0

    def add(self, node: str) -> None:
        self._stats.setdefault(node, _Stats())

    def is_ejected(self, node: str) -> bool:
        stats = self._stats.get(node)
        return stats is not None and self._clock.monotonic() < stats.ejected_until

    def ejected(self) -> list[str]:
        return [name for name in self._stats if self.is_ejected(name)]

    def record(self, node: str, success: bool) -> None:
        stats = self._stats.setdefault(node, _Stats())
        stats.calls += 1
        if success:
            stats.consecutive = 0
            return
        stats.failures += 1
        stats.consecutive += 1
        if stats.consecutive >= self.config.consecutive_errors:
            self._eject(node)

    def sweep(self) -> list[str]:
        """Statistical ejection over the calls since the last sweep; returns newly ejected."""
        rates = {
            name: s.failures / s.calls
            for name, s in self._stats.items()
            if s.calls >= self.config.min_volume and not self.is_ejected(name)
        }
        newly: list[str] = []
        for name, rate in sorted(rates.items(), key=lambda kv: -kv[1]):
            peers = [r for other, r in rates.items() if other != name]
            if not peers or rate < self.config.failure_rate:
                continue
            if rate - sum(peers) / len(peers) >= self.config.spread and self._eject(name):
                newly.append(name)
        for stats in self._stats.values():
            stats.calls = stats.failures = 0
        return newly

    def _eject(self, node: str) -> bool:
        stats = self._stats[node]
        if self.is_ejected(node):
            return False
        cap = max(1, int(self.config.max_ejected_share * len(self._stats)))
        if len(self.ejected()) >= cap:
            return False
        stats.times_ejected += 1
        duration = min(self.config.max_ejection, self.config.base_ejection * stats.times_ejected)
        stats.ejected_until = self._clock.monotonic() + duration
        stats.consecutive = 0
        self.ejections += 1
        return True
