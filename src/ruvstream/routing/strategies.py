"""Node choice inside a region: round-robin, least-connections, weighted, adaptive.

Every strategy is deterministic given the sequence of calls (tests check
exact distributions) and takes the already-filtered routable candidates.
Chosen by name through ``make_strategy``; an unknown name is an error that
lists the known ones.

* ``round-robin``: a cursor over the candidates, in order.
* ``least-connections``: the fewest requests in flight from this router;
  ties go round-robin so idle nodes share sequential traffic.
* ``weighted``: smooth weighted round-robin (nginx): over any run of
  ``sum(weights)`` picks, each node gets exactly its weight's share, spread
  out rather than in bursts.
* ``adaptive``: smooth weighted round-robin where a node's weight is the
  square of its health score (the original design's formula
  ``(100-cpu)*.3 + (100-mem%)*.3 + (1000-streams)/10*.2 + (1000-latency_ms)/10*.2``,
  each term clamped at 0). Squaring favours the clearly healthier node while
  the others still see enough traffic for their latency figures to stay fresh
  (pure argmax herds every request onto one node between two probes).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Protocol

from .node import Node

__all__ = ["STRATEGIES", "Strategy", "adaptive_score", "make_strategy"]


class Strategy(Protocol):
    name: str

    def pick(self, candidates: Sequence[Node]) -> Node: ...


class RoundRobin:
    name = "round-robin"

    def __init__(self) -> None:
        self._cursor = 0

    def pick(self, candidates: Sequence[Node]) -> Node:
        node = candidates[self._cursor % len(candidates)]
        self._cursor += 1
        return node


class LeastConnections:
    name = "least-connections"

    def __init__(self) -> None:
        self._tiebreak = RoundRobin()

    def pick(self, candidates: Sequence[Node]) -> Node:
        # One loop, no generator: this runs for every request.
        fewest = candidates[0].inflight
        tied: list[Node] = []
        for n in candidates:
            if n.inflight < fewest:
                fewest, tied = n.inflight, [n]
            elif n.inflight == fewest:
                tied.append(n)
        return self._tiebreak.pick(tied)


class SmoothWeighted:
    name = "weighted"

    def __init__(self, weight_of: Callable[[Node], float] | None = None) -> None:
        self._weight_of = weight_of or (lambda n: n.weight)
        self._current: dict[str, float] = {}

    def pick(self, candidates: Sequence[Node]) -> Node:
        weights = [max(0.0, self._weight_of(n)) for n in candidates]
        total = sum(weights)
        if total <= 0:
            weights, total = [1.0] * len(candidates), float(len(candidates))
        best: Node | None = None
        for node, weight in zip(candidates, weights, strict=True):
            self._current[node.name] = self._current.get(node.name, 0.0) + weight
            if best is None or self._current[node.name] > self._current[best.name]:
                best = node
        assert best is not None
        self._current[best.name] -= total
        return best


def adaptive_score(node: Node, memory_budget_bytes: int = 8 << 30) -> float:
    """Health score in [0, 100]: high for idle, fast nodes. Latency: reported p99, else observed."""
    report = node.report
    mem_pct = 100.0 * report.memory_bytes / memory_budget_bytes
    latency = report.p99_ms or node.latency_ewma_ms
    streams = report.streams + node.inflight
    return (
        max(0.0, 100 - report.cpu_percent) * 0.3
        + max(0.0, 100 - mem_pct) * 0.3
        + max(0.0, (1000 - streams) / 10) * 0.2
        + max(0.0, (1000 - latency) / 10) * 0.2
    )


class Adaptive(SmoothWeighted):
    name = "adaptive"

    def __init__(self, memory_budget_bytes: int = 8 << 30) -> None:
        super().__init__(lambda n: adaptive_score(n, memory_budget_bytes) ** 2)


STRATEGIES: dict[str, Callable[[], Strategy]] = {
    "round-robin": RoundRobin,
    "least-connections": LeastConnections,
    "weighted": SmoothWeighted,
    "adaptive": Adaptive,
}


def make_strategy(name: str) -> Strategy:
    try:
        return STRATEGIES[name]()
    except KeyError:
        raise ValueError(
            f"unknown strategy {name!r}; choose from {', '.join(STRATEGIES)}"
        ) from None
