"""A circuit breaker: failure-rate and slow-call-rate over a sliding window.

The router keeps one per node, the control plane one per agent; it is a pure
policy on an injected clock, so it lives in core.

States and transitions (resilience4j semantics, injected clock, no sleeping):

* CLOSED: every call is recorded in a count-based window of the last
  ``window`` calls. Once the window holds at least ``min_calls``, a failure
  rate >= ``failure_rate`` or a slow-call rate >= ``slow_rate`` opens it.
* OPEN: calls are refused until ``open_wait`` seconds have passed; the state
  then reads HALF_OPEN (time-based, visible to selection, so an open breaker
  is never stuck open because nothing selects it).
* HALF_OPEN: at most ``half_open_calls`` probes are let through at a time.
  Any failed or slow probe re-opens it; ``half_open_calls`` successful probes
  close it with a fresh window. A probe permit that is never recorded (the
  call was cancelled) is returned with ``release``.

Invariants: the window never holds more than ``window`` outcomes; a state
change clears the window; ``allow`` never lets more than ``half_open_calls``
probes be in flight together.
"""

from __future__ import annotations

import enum
from collections import deque
from dataclasses import dataclass

from ruvstream.core.clock import Clock

__all__ = ["BreakerConfig", "BreakerState", "CircuitBreaker"]


class BreakerState(enum.IntEnum):
    """Numeric values are what the state gauge exports."""

    CLOSED = 0
    OPEN = 1
    HALF_OPEN = 2


@dataclass(frozen=True, slots=True)
class BreakerConfig:
    failure_rate: float = 0.5
    slow_rate: float = 1.0
    slow_call_seconds: float = 2.0
    window: int = 50
    min_calls: int = 10
    open_wait: float = 5.0
    half_open_calls: int = 3

    def __post_init__(self) -> None:
        if not (0 < self.failure_rate <= 1 and 0 < self.slow_rate <= 1):
            raise ValueError("rates must be in (0, 1]")
        if self.window < 1 or not 1 <= self.min_calls <= self.window:
            raise ValueError("need 1 <= min_calls <= window")
        if self.half_open_calls < 1 or self.open_wait < 0:
            raise ValueError("half_open_calls >= 1 and open_wait >= 0")


class CircuitBreaker:
    def __init__(self, config: BreakerConfig, clock: Clock) -> None:
        self.config = config
        self._clock = clock
        self._state = BreakerState.CLOSED
        self._opened_at = 0.0
        self._outcomes: deque[tuple[bool, bool]] = deque(maxlen=config.window)
        self._failures = self._slows = 0
        """Counts over ``_outcomes``, kept as it changes: a call must not rescan the window."""
        self._probes_in_flight = 0
        self._probe_successes = 0
        self.transitions = 0

    @property
    def state(self) -> BreakerState:
        if (
            self._state is BreakerState.OPEN
            and self._clock.monotonic() - self._opened_at >= self.config.open_wait
        ):
            self._move(BreakerState.HALF_OPEN)
        return self._state

    def available(self) -> bool:
        """Would ``allow`` say yes now? (does not take a permit)."""
        state = self.state
        if state is BreakerState.CLOSED:
            return True
        return (
            state is BreakerState.HALF_OPEN and self._probes_in_flight < self.config.half_open_calls
        )

    def allow(self) -> bool:
        """Take a permit for one call; every True must be followed by record or release."""
        if not self.available():
            return False
        if self._state is BreakerState.HALF_OPEN:
            self._probes_in_flight += 1
        return True

    def release(self) -> None:
        """Give back a permit whose call never produced an outcome."""
        if self._state is BreakerState.HALF_OPEN and self._probes_in_flight > 0:
            self._probes_in_flight -= 1

    def record(self, success: bool, seconds: float = 0.0) -> None:
        slow = seconds >= self.config.slow_call_seconds
        state = self.state
        if state is BreakerState.HALF_OPEN:
            self._probes_in_flight = max(0, self._probes_in_flight - 1)
            if not success or slow:
                self._open()
                return
            self._probe_successes += 1
            if self._probe_successes >= self.config.half_open_calls:
                self._move(BreakerState.CLOSED)
            return
        if state is BreakerState.OPEN:
            return  # a straggler that started before the breaker opened
        outcomes = self._outcomes
        if len(outcomes) == outcomes.maxlen:  # the oldest leaves the window
            old_success, old_slow = outcomes[0]
            self._failures -= not old_success
            self._slows -= old_slow
        outcomes.append((success, slow))
        self._failures += not success
        self._slows += slow
        total = len(outcomes)
        if total < self.config.min_calls:
            return
        failures, slows = self._failures, self._slows
        if failures / total >= self.config.failure_rate or slows / total >= self.config.slow_rate:
            self._open()

    def force_open(self) -> None:
        """Open now (a failed active probe of a node that was closed)."""
        self._open()

    def _open(self) -> None:
        self._opened_at = self._clock.monotonic()
        self._move(BreakerState.OPEN)

    def _move(self, state: BreakerState) -> None:
        if state is not self._state:
            self.transitions += 1
        self._state = state
        self._outcomes.clear()
        self._failures = self._slows = 0
        self._probes_in_flight = 0
        self._probe_successes = 0
