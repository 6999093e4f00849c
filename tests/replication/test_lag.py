"""The lag tracker on a manual clock: rises when cut off or behind, falls on catch-up."""

from __future__ import annotations

from ruvstream.core.clock import ManualClock
from ruvstream.replication import LagTracker


def tracker() -> tuple[LagTracker, ManualClock]:
    clock = ManualClock()
    return LagTracker(clock, stale_after=1.5), clock


def test_caught_up_and_fresh_is_zero() -> None:
    lag, clock = tracker()
    lag.on_applied(10)
    lag.on_heartbeat("eu", "eu-1", 10)
    clock.advance(0.5)
    assert lag.lags() == {"eu": 0.0}


def test_behind_counts_from_the_last_satisfied_heartbeat() -> None:
    lag, clock = tracker()
    lag.on_heartbeat("eu", "eu-1", 0)
    clock.advance(0.5)
    lag.on_heartbeat("eu", "eu-1", 20)  # eu has published through 20; we are at 0
    clock.advance(0.5)
    lag.on_heartbeat("eu", "eu-1", 30)
    clock.advance(0.5)
    assert lag.lags()["eu"] == 1.5
    lag.on_applied(25)  # the beat at t=0.5 is satisfied, the one at t=1.0 is not
    assert lag.lags()["eu"] == 1.0
    lag.on_applied(30)
    assert lag.lags()["eu"] == 0.0


def test_silence_makes_lag_rise_and_a_fresh_heartbeat_brings_it_back() -> None:
    lag, clock = tracker()
    lag.on_heartbeat("asia", "asia-1", 0)
    clock.advance(5.0)
    assert lag.lags()["asia"] == 5.0
    clock.advance(5.0)
    assert lag.lags()["asia"] == 10.0
    lag.on_heartbeat("asia", "asia-1", 0)
    assert lag.lags()["asia"] == 0.0


def test_region_lag_is_the_worst_live_node_and_ignores_dead_ones() -> None:
    lag, clock = tracker()
    lag.on_heartbeat("us", "us-1", 0)
    lag.on_heartbeat("us", "us-2", 0)
    clock.advance(1.0)
    lag.on_heartbeat("us", "us-1", 50)  # us-1 published more than we applied
    lag.on_heartbeat("us", "us-2", 0)
    clock.advance(1.0)
    lag.on_heartbeat("us", "us-2", 0)
    assert lag.lags()["us"] == 2.0  # us-1 (live, behind since t=0) decides
    clock.advance(1.0)
    lag.on_heartbeat("us", "us-2", 0)  # us-1 has gone silent (dead): us-2 decides
    assert lag.lags()["us"] == 0.0


def test_regions_never_heard_from_are_not_reported() -> None:
    lag, _ = tracker()
    assert lag.lags() == {}
