"""Outlier ejection on a manual clock."""

from __future__ import annotations

from ruvstream.core.clock import ManualClock
from ruvstream.routing import OutlierConfig, OutlierDetector

CONFIG = OutlierConfig(
    consecutive_errors=3,
    failure_rate=0.5,
    spread=0.3,
    min_volume=10,
    base_ejection=10.0,
    max_ejection=25.0,
    max_ejected_share=0.34,
)


def detector(nodes: int = 3) -> tuple[OutlierDetector, ManualClock]:
    clock = ManualClock()
    d = OutlierDetector(CONFIG, clock)
    for i in range(nodes):
        d.add(f"n{i}")
    return d, clock


def test_consecutive_errors_eject_with_growing_duration() -> None:
    d, clock = detector()
    for _ in range(3):
        d.record("n0", False)
    assert d.ejected() == ["n0"]
    clock.advance(10.0)
    assert not d.is_ejected("n0")
    for _ in range(3):
        d.record("n0", False)
    clock.advance(19.0)
    assert d.is_ejected("n0")  # second ejection lasts 20 s
    clock.advance(1.0)
    assert not d.is_ejected("n0")
    for _ in range(3):
        for _ in range(3):
            d.record("n0", False)
        clock.advance(25.0)
    assert not d.is_ejected("n0")  # capped at max_ejection


def test_a_success_resets_the_streak() -> None:
    d, _ = detector()
    for ok in (False, False, True, False, False):
        d.record("n0", ok)
    assert not d.is_ejected("n0")


def test_share_cap_keeps_most_nodes_in() -> None:
    d, _ = detector(nodes=3)
    for name in ("n0", "n1", "n2"):
        for _ in range(3):
            d.record(name, False)
    assert len(d.ejected()) == 1


def test_standing_out_is_ejected_failing_alike_is_not() -> None:
    d, _ = detector(nodes=3)
    for i in range(20):
        d.record("n0", i % 4 != 0)  # 25 % failures
        d.record("n1", True)
        d.record("n2", i % 2 == 0)  # 50 % failures, never two in a row
    assert d.sweep() == ["n2"]
    d2, _ = detector(nodes=3)
    for i in range(30):
        for name in ("n0", "n1", "n2"):
            d2.record(name, i % 3 == 2)  # everyone fails 2 in 3: the cause is elsewhere
    assert d2.sweep() == []


def test_low_volume_is_not_judged() -> None:
    d, _ = detector(nodes=2)
    for i in range(9):
        d.record("n0", i % 2 == 0)
        d.record("n1", True)
    assert d.sweep() == []
