"""The four node-choice strategies distribute exactly as documented."""

from __future__ import annotations

from collections import Counter

import pytest

from ruvstream.routing import HealthReport, adaptive_score, make_strategy

from .helpers import node


def picks(strategy: str, nodes: list, n: int) -> Counter[str]:  # type: ignore[type-arg]
    s = make_strategy(strategy)
    return Counter(s.pick(nodes).name for _ in range(n))


def test_round_robin_cycles_in_order() -> None:
    nodes = [node("a"), node("b"), node("c")]
    s = make_strategy("round-robin")
    assert [s.pick(nodes).name for _ in range(6)] == ["a", "b", "c", "a", "b", "c"]


def test_least_connections_prefers_idle_and_shares_ties() -> None:
    a, b, c = node("a"), node("b"), node("c")
    a.inflight, b.inflight, c.inflight = 3, 1, 1
    s = make_strategy("least-connections")
    assert {s.pick([a, b, c]).name for _ in range(4)} == {"b", "c"}
    b.inflight = 0
    assert s.pick([a, b, c]).name == "b"


def test_weighted_is_exact_and_smooth() -> None:
    nodes = [node("a", weight=5), node("b", weight=1), node("c", weight=1)]
    s = make_strategy("weighted")
    sequence = [s.pick(nodes).name for _ in range(7)]
    assert Counter(sequence) == {"a": 5, "b": 1, "c": 1}
    assert sequence != ["a"] * 5 + ["b", "c"]  # spread, not in a burst
    assert picks("weighted", nodes, 700) == {"a": 500, "b": 100, "c": 100}


def test_adaptive_follows_scores() -> None:
    calm = node("calm", report=HealthReport(cpu_percent=10, streams=10, p99_ms=5))
    busy = node("busy", report=HealthReport(cpu_percent=95, streams=900, p99_ms=400))
    counts = picks("adaptive", [calm, busy], 1000)
    sa, sb = adaptive_score(calm) ** 2, adaptive_score(busy) ** 2
    assert counts["calm"] == pytest.approx(1000 * sa / (sa + sb), abs=2)
    assert counts["calm"] > 3 * counts["busy"] > 0


def test_adaptive_score_formula() -> None:
    n = node(
        "x",
        report=HealthReport(cpu_percent=50, memory_bytes=(8 << 30) // 2, streams=500, p99_ms=500),
    )
    assert adaptive_score(n) == pytest.approx(15 + 15 + 10 + 10)
    idle = node("y")
    assert adaptive_score(idle) == pytest.approx(100)


def test_unknown_strategy_names_the_known_ones() -> None:
    with pytest.raises(ValueError, match="round-robin"):
        make_strategy("random")
