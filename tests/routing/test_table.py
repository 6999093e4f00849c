"""Routing table: nearest healthy region first, spillover, routable nodes only."""

from __future__ import annotations

from ruvstream.core.clock import ManualClock
from ruvstream.routing import HealthReport, OutlierConfig, OutlierDetector, RoutingTable

from .helpers import node


def table(*nodes_, strategy: str = "round-robin", clock: ManualClock | None = None) -> RoutingTable:  # type: ignore[no-untyped-def]
    return RoutingTable(
        list(nodes_), strategy, OutlierDetector(OutlierConfig(), clock or ManualClock()), 0.8
    )


def test_nearest_region_first() -> None:
    t = table(node("e1", "us-east1"), node("w1", "europe-west1"), node("a1", "asia-east1"))
    assert t.region_order("europe-west2") == ["europe-west1", "us-east1", "asia-east1"]
    assert t.choose("europe-west2").name == "w1"  # type: ignore[union-attr]
    assert t.choose("us-central1").name == "e1"  # type: ignore[union-attr]


def test_down_open_or_ejected_nodes_are_skipped() -> None:
    clock = ManualClock()
    e1, e2, w1 = (
        node("e1", "us-east1", clock=clock),
        node("e2", "us-east1", clock=clock),
        node("w1", "europe-west1"),
    )
    t = table(e1, e2, w1, clock=clock)
    e1.healthy = False
    assert {t.choose("us-east1").name for _ in range(4)} == {"e2"}  # type: ignore[union-attr]
    e2.breaker.force_open()
    assert t.choose("us-east1").name == "w1"  # type: ignore[union-attr]
    clock.advance(e2.breaker.config.open_wait)
    assert t.choose("us-east1").name == "e2"  # half-open: probes allowed


def test_spills_when_region_is_full_or_overloaded() -> None:
    e1, w1 = node("e1", "us-east1", capacity=10), node("w1", "europe-west1")
    t = table(e1, w1)
    e1.inflight = 7
    assert t.choose("us-east1") is e1
    e1.inflight = 8  # 80 % of capacity
    assert t.choose("us-east1") is w1
    e1.inflight = 0
    e1.report = HealthReport(overloaded=True)
    assert t.choose("us-east1") is w1
    w1.healthy = False
    assert t.choose("us-east1") is e1  # full beats nothing


def test_overloaded_nodes_are_avoided_inside_a_region() -> None:
    e1, e2 = node("e1"), node("e2", report=HealthReport(overloaded=True))
    t = table(e1, e2)
    assert {t.choose("us-east1").name for _ in range(4)} == {"e1"}  # type: ignore[union-attr]
    assert t.pressure() == 0.5


def test_nothing_routable() -> None:
    e1 = node("e1")
    e1.healthy = False
    t = table(e1)
    assert t.choose("us-east1") is None
    assert t.pressure() == 1.0
