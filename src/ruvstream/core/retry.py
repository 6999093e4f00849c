"""Retry strategy: exponential backoff with full jitter, bounded by a retry budget.

Pure and dependency-free (standard library only) so the client, the router,
replication and the load generator share one strategy. Time and randomness are
injected: ``clock`` is a monotonic ``() -> seconds`` and ``rng`` a
``() -> [0, 1)`` source, so the arithmetic is tested without sleeping.

Invariants:

* a delay is drawn uniformly from ``[0, min(cap, base * multiplier**n))``
  ("full jitter"), so synchronized clients spread out instead of retrying in
  waves;
* a server's ``Retry-After`` is a floor on the delay, never shortened;
* a retry is refused when it would land after the call's deadline, when the
  server asks to wait longer than ``max_retry_after``, when the attempts are
  used up, or when the shared budget is exhausted;
* a loop that must go on until it succeeds (a bus consumer, an outbox) takes
  its delays from a ``RetrySchedule``: the same jittered backoff, no attempt
  limit, starting over after each success;
* the budget follows gRPC retry throttling: it holds ``max_tokens``, every
  failed attempt costs one token, every success refunds ``token_ratio``, and
  retries are allowed only while more than half the tokens remain. During an
  outage every caller's retries therefore stop after about
  ``max_tokens / 2`` failures, and the load stays near the original rate.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field

__all__ = ["Backoff", "Retrier", "RetryBudget", "RetryPolicy", "RetrySchedule"]

Clock = Callable[[], float]
Rng = Callable[[], float]


@dataclass(frozen=True, slots=True)
class Backoff:
    """Exponential backoff with full jitter."""

    base: float = 0.05
    cap: float = 5.0
    multiplier: float = 2.0

    def ceiling(self, retry: int) -> float:
        """The largest delay before retry number ``retry`` (0 for the first retry)."""
        return min(self.cap, self.base * self.multiplier ** max(0, retry))

    def delay(self, retry: int, rng: Rng = random.random) -> float:
        return rng() * self.ceiling(retry)


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """How one call retries: attempts (the first included), backoff, Retry-After cap."""

    max_attempts: int = 4
    backoff: Backoff = field(default_factory=Backoff)
    max_retry_after: float = 30.0

    @classmethod
    def never(cls) -> RetryPolicy:
        return cls(max_attempts=1)


class RetryBudget:
    """A token bucket shared by many calls, so retries cannot multiply load.

    Not thread-safe by design: one budget belongs to one event loop (the sync
    client runs its calls on a single private loop).
    """

    def __init__(self, max_tokens: float = 10.0, token_ratio: float = 0.1) -> None:
        if max_tokens <= 0 or token_ratio < 0:
            raise ValueError("max_tokens must be positive and token_ratio non-negative")
        self.max_tokens = max_tokens
        self.token_ratio = token_ratio
        self.tokens = max_tokens
        self.refused = 0

    @property
    def threshold(self) -> float:
        return self.max_tokens / 2

    def on_success(self) -> None:
        self.tokens = min(self.max_tokens, self.tokens + self.token_ratio)

    def on_failure(self) -> None:
        self.tokens = max(0.0, self.tokens - 1.0)

    def allows_retry(self) -> bool:
        allowed = self.tokens > self.threshold
        if not allowed:
            self.refused += 1
        return allowed


class Retrier:
    """One call's retry state: attempts made so far and the call's deadline."""

    def __init__(
        self,
        policy: RetryPolicy,
        budget: RetryBudget | None = None,
        *,
        total: float | None = None,
        clock: Clock = time.monotonic,
        rng: Rng = random.random,
    ) -> None:
        self.policy = policy
        self.budget = budget
        self.clock = clock
        self.rng = rng
        self.attempts = 1
        self.deadline = None if total is None else clock() + total

    def remaining(self) -> float | None:
        return None if self.deadline is None else self.deadline - self.clock()

    def succeeded(self) -> None:
        if self.budget is not None:
            self.budget.on_success()

    def next_delay(self, retry_after: float | None = None) -> float | None:
        """After a retryable failure: the delay before the next attempt, or None to give up."""
        if self.budget is not None:
            self.budget.on_failure()
        policy = self.policy
        if self.attempts >= policy.max_attempts:
            return None
        if retry_after is not None and retry_after > policy.max_retry_after:
            return None
        delay = policy.backoff.delay(self.attempts - 1, self.rng)
        if retry_after is not None:
            delay = max(delay, retry_after)
        remaining = self.remaining()
        if remaining is not None and delay >= remaining:
            return None
        if self.budget is not None and not self.budget.allows_retry():
            return None
        self.attempts += 1
        return delay


class RetrySchedule:
    """The delays of a loop that retries until it succeeds, such as a bus consumer.

    Such a loop has nothing to give up to, so there is no attempt limit and no
    budget; the delays grow as ``backoff`` says, with full jitter so that many
    nodes losing one bus do not come back in step, and start over after a
    success.
    """

    def __init__(self, backoff: Backoff, rng: Rng = random.random) -> None:
        self.backoff = backoff
        self.rng = rng
        self.failures = 0

    def failed(self) -> float:
        """After a failure: how long to wait before trying again."""
        delay = self.backoff.delay(self.failures, self.rng)
        self.failures += 1
        return delay

    def succeeded(self) -> None:
        self.failures = 0
