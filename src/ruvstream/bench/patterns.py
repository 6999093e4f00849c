"""Which query comes next and when it is due: pure, seeded, clock-free.

Query patterns pick a row of the query set: ``uniform``; ``hotspot`` (80 %
of picks go to the first 1 % of rows); ``zipfian`` (a true Zipf(s) law
over the rows, P(rank r) proportional to 1/r^s); ``burst`` (uniform outside
bursts, hotspot inside them; the rate multiplier lives in the load shape).

``arrivals`` turns a rate function into intended send times for an open
loop: fixed spacing or Poisson (exponential gaps). The schedule never
depends on responses, which is what keeps coordinated omission out.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

__all__ = ["PATTERNS", "QueryPicker", "arrivals", "zipf_weights"]

PATTERNS = ("uniform", "hotspot", "zipfian", "burst")
HOTSPOT_SHARE = 0.8
HOTSPOT_FRACTION = 0.01


def zipf_weights(n: int, s: float) -> npt.NDArray[np.float64]:
    """Probabilities of ranks 1..n under Zipf(s), normalised to sum to 1."""
    weights = 1.0 / np.arange(1, n + 1, dtype=np.float64) ** s
    normalized: npt.NDArray[np.float64] = weights / weights.sum()
    return normalized


@dataclass
class QueryPicker:
    """Draws query rows in ``[0, n)`` for a pattern, reproducibly from a seed."""

    n: int
    pattern: str = "uniform"
    seed: int = 0
    zipf_s: float = 1.1

    def __post_init__(self) -> None:
        if self.pattern not in PATTERNS:
            raise ValueError(f"unknown query pattern {self.pattern!r}; one of {PATTERNS}")
        if self.n < 1:
            raise ValueError("the query set is empty")
        self._rng = np.random.default_rng(self.seed)
        self._hot = max(1, int(self.n * HOTSPOT_FRACTION))
        self._cdf = np.cumsum(zipf_weights(self.n, self.zipf_s))

    def pick(self, in_burst: bool = False) -> int:
        pattern = self.pattern
        if pattern == "burst":
            pattern = "hotspot" if in_burst else "uniform"
        if pattern == "hotspot":
            if self._rng.random() < HOTSPOT_SHARE:
                return int(self._rng.integers(self._hot))
            return int(self._rng.integers(self.n))
        if pattern == "zipfian":
            return min(self.n - 1, int(np.searchsorted(self._cdf, self._rng.random())))
        return int(self._rng.integers(self.n))


def arrivals(
    rate_at: Callable[[float], float],
    duration: float,
    *,
    poisson: bool = False,
    seed: int = 0,
    max_count: int | None = None,
    step: float = 0.01,
) -> Iterator[float]:
    """Intended send offsets (seconds from start) for a time-varying rate.

    Time rescaling: each gap is a unit of "work" (exactly 1 for fixed
    spacing, Exp(1) for Poisson) spent at the rate in force, integrated in
    ``step``-long pieces, so a rate that changes (ramps, bursts) is followed
    within one step and a zero rate simply produces no arrivals.

    Invariants: offsets are non-decreasing, all lie in ``[0, duration)``, and
    at most ``max_count`` are produced.
    """
    rng = np.random.default_rng(seed)
    t = 0.0
    count = 0
    need = float(rng.exponential()) if poisson else 0.5  # fixed: mid-gap offsets
    while t < duration and (max_count is None or count < max_count):
        rate = max(0.0, rate_at(t))
        edge = (int(t / step + 1e-9) + 1) * step
        if rate == 0.0 or rate * (edge - t) < need:
            need -= rate * (edge - t)
            t = edge
            continue
        t += need / rate
        if t >= duration:
            return
        yield t
        count += 1
        need = float(rng.exponential()) if poisson else 1.0
