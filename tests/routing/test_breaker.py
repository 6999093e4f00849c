"""Circuit breaker state machine on a manual clock: no sleeping."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ruvstream.core.clock import ManualClock
from ruvstream.routing import BreakerConfig, BreakerState, CircuitBreaker

CONFIG = BreakerConfig(
    failure_rate=0.5,
    slow_rate=0.5,
    slow_call_seconds=1.0,
    window=10,
    min_calls=4,
    open_wait=5.0,
    half_open_calls=2,
)


def make() -> tuple[CircuitBreaker, ManualClock]:
    clock = ManualClock()
    return CircuitBreaker(CONFIG, clock), clock


def test_no_decision_before_min_calls() -> None:
    breaker, _ = make()
    for _ in range(3):
        breaker.record(False)
    assert breaker.state is BreakerState.CLOSED
    breaker.record(False)
    assert breaker.state is BreakerState.OPEN
    assert not breaker.allow()


def test_failure_rate_below_threshold_stays_closed() -> None:
    breaker, _ = make()
    for i in range(40):
        breaker.record(i % 3 != 2)  # one failure in three
    assert breaker.state is BreakerState.CLOSED


def test_window_forgets_old_failures() -> None:
    breaker, _ = make()
    for ok in (True, True, True, False, False):
        breaker.record(ok)  # 2 of 5: below the threshold
    for _ in range(10):
        breaker.record(True)
    for _ in range(3):
        breaker.record(False)
    assert breaker.state is BreakerState.CLOSED  # 3 of the last 10


def test_slow_calls_open_it() -> None:
    breaker, _ = make()
    for _ in range(4):
        breaker.record(True, seconds=2.0)
    assert breaker.state is BreakerState.OPEN


def test_open_then_half_open_then_closed() -> None:
    breaker, clock = make()
    breaker.force_open()
    clock.advance(4.9)
    assert not breaker.available()
    clock.advance(0.2)
    assert breaker.state is BreakerState.HALF_OPEN
    assert breaker.allow() and breaker.allow()
    assert not breaker.allow()  # two probes at most
    breaker.record(True)
    assert breaker.state is BreakerState.HALF_OPEN
    breaker.record(True)
    assert breaker.state is BreakerState.CLOSED
    assert breaker.allow()


def test_failed_probe_reopens_for_another_wait() -> None:
    breaker, clock = make()
    breaker.force_open()
    clock.advance(5.0)
    assert breaker.allow()
    breaker.record(False)
    assert breaker.state is BreakerState.OPEN
    clock.advance(4.0)
    assert breaker.state is BreakerState.OPEN
    clock.advance(1.0)
    assert breaker.state is BreakerState.HALF_OPEN


def test_released_probe_permit_is_given_back() -> None:
    breaker, clock = make()
    breaker.force_open()
    clock.advance(5.0)
    assert breaker.allow() and breaker.allow()
    breaker.release()
    assert breaker.allow()


def test_config_is_validated() -> None:
    with pytest.raises(ValueError):
        BreakerConfig(failure_rate=0)
    with pytest.raises(ValueError):
        BreakerConfig(window=5, min_calls=6)


@given(st.lists(st.tuples(st.booleans(), st.floats(0, 3), st.floats(0, 3)), max_size=200))
def test_probes_in_flight_never_exceed_the_limit(steps: list[tuple[bool, float, float]]) -> None:
    breaker, clock = make()
    taken = 0
    for ok, seconds, wait in steps:
        clock.advance(wait)
        if breaker.state is BreakerState.HALF_OPEN:
            granted = 0
            while breaker.allow():
                granted += 1
                assert granted <= CONFIG.half_open_calls
            taken = granted
            for _ in range(taken):
                breaker.record(ok, seconds)
        elif breaker.allow():
            breaker.record(ok, seconds)
        assert breaker.state in set(BreakerState)
