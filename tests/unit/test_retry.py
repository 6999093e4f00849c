"""The pure retry strategy: full-jitter backoff, Retry-After floors, deadlines, budget."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ruvstream.core.clock import ManualClock
from ruvstream.core.retry import Backoff, Retrier, RetryBudget, RetryPolicy, RetrySchedule


@given(retry=st.integers(0, 40), draw=st.floats(0, 0.999999))
def test_full_jitter_stays_under_the_capped_exponential(retry: int, draw: float) -> None:
    backoff = Backoff(base=0.1, cap=3.0)
    delay = backoff.delay(retry, lambda: draw)
    assert 0.0 <= delay <= min(3.0, 0.1 * 2**retry)


def test_ceiling_doubles_then_caps() -> None:
    backoff = Backoff(base=0.1, cap=1.0)
    assert [backoff.ceiling(n) for n in range(6)] == [0.1, 0.2, 0.4, 0.8, 1.0, 1.0]


def test_attempts_are_bounded_and_count_the_first() -> None:
    retrier = Retrier(RetryPolicy(max_attempts=3), rng=lambda: 0.5)
    assert retrier.next_delay() is not None
    assert retrier.next_delay() is not None
    assert retrier.next_delay() is None
    assert retrier.attempts == 3


def test_retry_after_is_a_floor_not_a_suggestion() -> None:
    retrier = Retrier(RetryPolicy(backoff=Backoff(base=0.01)), rng=lambda: 0.9)
    assert retrier.next_delay(retry_after=2.5) == 2.5


def test_a_server_asking_for_too_long_a_wait_ends_the_retries() -> None:
    retrier = Retrier(RetryPolicy(max_retry_after=5.0))
    assert retrier.next_delay(retry_after=60.0) is None


def test_no_retry_that_would_land_after_the_deadline() -> None:
    clock = ManualClock()
    retrier = Retrier(RetryPolicy(), total=3.0, clock=clock.monotonic, rng=lambda: 0.0)
    assert retrier.next_delay(retry_after=2.0) == 2.0
    clock.advance(2.0)
    assert retrier.remaining() == 1.0
    assert retrier.next_delay(retry_after=2.0) is None


def test_never_means_one_attempt() -> None:
    assert Retrier(RetryPolicy.never()).next_delay() is None


def test_budget_stops_retries_during_an_outage_and_refills_on_success() -> None:
    budget = RetryBudget(max_tokens=10, token_ratio=0.5)
    policy = RetryPolicy(max_attempts=100)
    retries = 0
    for _ in range(20):  # every attempt fails: an outage
        retrier = Retrier(policy, budget, rng=lambda: 0.0)
        while retrier.next_delay() is not None:
            retries += 1
    assert retries == 4  # tokens 10 -> 5: only while above half
    assert budget.refused == 20
    assert budget.tokens == 0
    for _ in range(10):
        budget.on_success()
    assert not budget.allows_retry()  # back to half: not yet above it
    for _ in range(2):
        budget.on_success()
    assert budget.allows_retry()


def test_budget_is_shared_by_all_calls_of_a_client() -> None:
    budget = RetryBudget(max_tokens=4, token_ratio=0.1)
    first = Retrier(RetryPolicy(max_attempts=10), budget, rng=lambda: 0.0)
    assert first.next_delay() is not None  # 3 tokens left
    assert first.next_delay() is None  # 2 left: not above half
    second = Retrier(RetryPolicy(max_attempts=10), budget, rng=lambda: 0.0)
    assert second.next_delay() is None


def test_a_schedule_grows_with_full_jitter_and_starts_over_after_a_success() -> None:
    draws = iter([0.999, 0.999, 0.999, 0.5, 0.0])
    schedule = RetrySchedule(Backoff(base=0.1, cap=0.3), rng=lambda: next(draws))
    grown = [schedule.failed() for _ in range(3)]
    assert grown == pytest.approx([0.0999, 0.1998, 0.2997])  # the ceiling doubles, then caps
    schedule.succeeded()
    assert schedule.failed() == pytest.approx(0.05)  # from the base again, jittered
    assert schedule.failed() == 0.0  # full jitter reaches down to no wait at all


@given(failures=st.integers(1, 60))
def test_a_schedule_never_gives_up_and_never_exceeds_the_cap(failures: int) -> None:
    schedule = RetrySchedule(Backoff(base=0.05, cap=2.0))
    delays = [schedule.failed() for _ in range(failures)]
    assert all(0.0 <= d <= 2.0 for d in delays)
    assert schedule.failures == failures
