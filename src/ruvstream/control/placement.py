"""Choosing the agent for a task: round-robin, least-loaded, weighted by capacity, adaptive.

Pure and deterministic given the calls (tests check exact choices). Each
strategy gets the eligible candidates (alive, in the task's region, breaker
closed) in id order and returns one.

* ``round-robin``: a cursor per region over the candidates.
* ``least-loaded``: fewest tasks running there, then lowest reported CPU.
* ``weighted``: smooth weighted round-robin on capacity (nginx): over any
  run of ``sum(capacities)`` picks each agent gets its capacity's share.
* ``adaptive``: the best health score from reported figures (the original
  design's formula: ``(100-cpu)*.3 + (100-mem%)*.3 + (1000-streams)/10*.2 +
  (1000-p99 ms)/10*.2``, each term at least 0), less 10 points per task
  already running there; ties go to the lowest id.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from .figures import Figures

__all__ = ["PLACEMENTS", "Candidate", "Placement", "health_score", "make_placement"]


@dataclass(frozen=True, slots=True)
class Candidate:
    id: str
    region: str
    capacity: int = 1
    running: int = 0
    figures: Figures = field(default_factory=Figures)


class Placement(Protocol):
    name: str

    def pick(self, candidates: Sequence[Candidate], region: str | None) -> Candidate: ...


class RoundRobin:
    name = "round-robin"

    def __init__(self) -> None:
        self._cursors: dict[str | None, int] = {}

    def pick(self, candidates: Sequence[Candidate], region: str | None) -> Candidate:
        cursor = self._cursors.get(region, 0)
        self._cursors[region] = cursor + 1
        return candidates[cursor % len(candidates)]


class LeastLoaded:
    name = "least-loaded"

    def pick(self, candidates: Sequence[Candidate], region: str | None) -> Candidate:
        return min(candidates, key=lambda c: (c.running, c.figures.cpu_percent, c.id))


class WeightedByCapacity:
    name = "weighted"

    def __init__(self) -> None:
        self._current: dict[str, float] = {}

    def pick(self, candidates: Sequence[Candidate], region: str | None) -> Candidate:
        total = float(sum(max(0, c.capacity) for c in candidates)) or float(len(candidates))
        best: Candidate | None = None
        for c in candidates:
            weight = float(max(0, c.capacity)) if total else 1.0
            self._current[c.id] = self._current.get(c.id, 0.0) + weight
            if best is None or self._current[c.id] > self._current[best.id]:
                best = c
        assert best is not None
        self._current[best.id] -= total
        return best


def health_score(figures: Figures) -> float:
    latency = figures.latency_ms.get("p99", 0.0)
    return (
        max(0.0, 100 - figures.cpu_percent) * 0.3
        + max(0.0, 100 - figures.memory_percent) * 0.3
        + max(0.0, (1000 - figures.total_streams) / 10) * 0.2
        + max(0.0, (1000 - latency) / 10) * 0.2
    )


class Adaptive:
    name = "adaptive"

    def pick(self, candidates: Sequence[Candidate], region: str | None) -> Candidate:
        return min(candidates, key=lambda c: (10 * c.running - health_score(c.figures), c.id))


PLACEMENTS: dict[str, Callable[[], Placement]] = {
    "round-robin": RoundRobin,
    "least-loaded": LeastLoaded,
    "weighted": WeightedByCapacity,
    "adaptive": Adaptive,
}


def make_placement(name: str) -> Placement:
    try:
        return PLACEMENTS[name]()
    except KeyError:
        raise ValueError(
            f"unknown strategy {name!r}; choose from {', '.join(PLACEMENTS)}"
        ) from None
