"""Rate limits per key: GCRA arithmetic, an in-process backend and the Redis one.

GCRA (generic cell rate algorithm) is a token bucket that stores one number
per key, the theoretical arrival time (TAT): with emission interval
``T = 1 / rate`` and capacity ``burst``, a request of ``cost`` is allowed when
``max(TAT, now) + T * cost - T * burst <= now``; then TAT moves to
``max(TAT, now) + T * cost``. A refused request leaves TAT untouched, so a
client that hammers a closed limit does not push its own reopening back.

Backends share one contract (``tests/routing/test_ratelimit_contract.py``):
``MemoryRateLimiter`` for one router, ``RedisRateLimiter`` (one atomic Lua
script per decision, so several routers enforce one limit) and
``FallbackRateLimiter`` that uses Redis while it answers and the in-process
limiter while it does not. Time comes from the caller's clock (wall seconds):
routers that share a limit need clocks within a small fraction of ``T``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Protocol

from ruvstream.core.clock import Clock

__all__ = [
    "Decision",
    "Limit",
    "MemoryRateLimiter",
    "RateLimiter",
    "gcra",
]


@dataclass(frozen=True, slots=True)
class Limit:
    """``rate`` requests per second sustained, ``burst`` at once from idle."""

    rate: float
    burst: int

    def __post_init__(self) -> None:
        if self.rate <= 0 or self.burst < 1:
            raise ValueError("rate must be positive and burst at least 1")

    @property
    def interval(self) -> float:
        return 1.0 / self.rate


@dataclass(frozen=True, slots=True)
class Decision:
    """``retry_after`` is 0 when allowed; ``remaining`` counts further requests of cost 1."""

    allowed: bool
    remaining: int
    retry_after: float
    reset_after: float


class RateLimiter(Protocol):
    async def acquire(self, key: str, limit: Limit, cost: int = 1) -> Decision: ...

    async def close(self) -> None: ...


def gcra(tat: float | None, now: float, limit: Limit, cost: int = 1) -> tuple[Decision, float]:
    """One GCRA decision: (decision, TAT to store). Pure; the Lua script mirrors it."""
    t = limit.interval
    base = now if tat is None else max(tat, now)
    new_tat = base + t * cost
    allow_at = new_tat - t * limit.burst
    if allow_at > now + 1e-9:
        old = base
        remaining = max(0, math.floor((now - (old - t * limit.burst)) / t + 1e-9))
        return Decision(False, remaining, allow_at - now, old - now), old
    remaining = max(0, math.floor((now - allow_at) / t + 1e-9))
    return Decision(True, remaining, 0.0, new_tat - now), new_tat


class MemoryRateLimiter:
    """One process's limits; keys whose TAT is in the past are dropped (they are full)."""

    def __init__(self, clock: Clock, max_keys: int = 100_000) -> None:
        self._clock = clock
        self._tat: dict[str, float] = {}
        self._max_keys = max_keys

    async def acquire(self, key: str, limit: Limit, cost: int = 1) -> Decision:
        return self.decide(key, limit, cost)

    def decide(self, key: str, limit: Limit, cost: int = 1) -> Decision:
        """``acquire`` without awaiting: the in-process decision is immediate."""
        now = self._clock.now()
        decision, tat = gcra(self._tat.get(key), now, limit, cost)
        if decision.allowed:
            if len(self._tat) >= self._max_keys:
                self._evict(now)
            self._tat[key] = tat
        return decision

    def _evict(self, now: float) -> None:
        for key in [k for k, tat in self._tat.items() if tat <= now]:
            del self._tat[key]

    async def close(self) -> None:
        self._tat.clear()
