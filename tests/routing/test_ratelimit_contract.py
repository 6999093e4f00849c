"""One contract for every rate-limiter backend: in-process, Redis, and Redis-with-fallback.

Every backend runs on a manual clock (the Redis script takes the caller's
time), so refill is tested without sleeping. The Redis cases use the real
server on 127.0.0.1:6379.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable

import pytest

from ruvstream.core.clock import ManualClock
from ruvstream.routing import (
    FallbackRateLimiter,
    Limit,
    MemoryRateLimiter,
    RateLimiter,
    RedisRateLimiter,
    gcra,
)

REDIS_URL = "redis://127.0.0.1:6379/0"
UNREACHABLE = "redis://127.0.0.1:1/0"

Factory = Callable[[ManualClock], RateLimiter]

FACTORIES: dict[str, Factory] = {
    "memory": MemoryRateLimiter,
    "redis": lambda clock: RedisRateLimiter.from_url(REDIS_URL, clock),
    "fallback-up": lambda clock: FallbackRateLimiter(
        RedisRateLimiter.from_url(REDIS_URL, clock), MemoryRateLimiter(clock), clock
    ),
    "fallback-down": lambda clock: FallbackRateLimiter(
        RedisRateLimiter.from_url(UNREACHABLE, clock), MemoryRateLimiter(clock), clock
    ),
}


@pytest.fixture(params=sorted(FACTORIES))
async def backend(request: pytest.FixtureRequest) -> AsyncIterator[tuple[RateLimiter, ManualClock]]:
    if "redis" in request.param or request.param == "fallback-up":
        request.applymarker(pytest.mark.redis)
    clock = ManualClock(start=1_800_000_000.0 + uuid.uuid4().int % 1000)
    limiter = FACTORIES[request.param](clock)
    yield limiter, clock
    await limiter.close()


def key() -> str:
    return f"test:{uuid.uuid4().hex}"


async def test_burst_then_refusal_with_retry_after(
    backend: tuple[RateLimiter, ManualClock],
) -> None:
    limiter, _ = backend
    k, limit = key(), Limit(rate=10.0, burst=5)
    decisions = [await limiter.acquire(k, limit) for _ in range(6)]
    assert [d.allowed for d in decisions] == [True] * 5 + [False]
    assert [d.remaining for d in decisions[:5]] == [4, 3, 2, 1, 0]
    assert decisions[5].retry_after == pytest.approx(0.1, abs=1e-3)


async def test_refills_at_the_rate(backend: tuple[RateLimiter, ManualClock]) -> None:
    limiter, clock = backend
    k, limit = key(), Limit(rate=10.0, burst=10)
    for _ in range(10):
        assert (await limiter.acquire(k, limit)).allowed
    assert not (await limiter.acquire(k, limit)).allowed
    clock.advance(0.5)
    allowed = [(await limiter.acquire(k, limit)).allowed for _ in range(6)]
    assert allowed == [True] * 5 + [False]


async def test_refusals_do_not_push_reopening_back(
    backend: tuple[RateLimiter, ManualClock],
) -> None:
    limiter, clock = backend
    k, limit = key(), Limit(rate=1.0, burst=1)
    assert (await limiter.acquire(k, limit)).allowed
    for _ in range(50):
        assert not (await limiter.acquire(k, limit)).allowed
    clock.advance(1.0)
    assert (await limiter.acquire(k, limit)).allowed


async def test_keys_are_independent_and_cost_counts(
    backend: tuple[RateLimiter, ManualClock],
) -> None:
    limiter, _ = backend
    a, b, limit = key(), key(), Limit(rate=1.0, burst=4)
    assert (await limiter.acquire(a, limit, cost=4)).allowed
    assert not (await limiter.acquire(a, limit)).allowed
    assert (await limiter.acquire(b, limit, cost=3)).allowed
    refused = await limiter.acquire(b, limit, cost=2)
    assert not refused.allowed and refused.retry_after == pytest.approx(1.0, abs=1e-3)


def test_gcra_reference_values() -> None:
    limit = Limit(rate=2.0, burst=3)
    decision, tat = gcra(None, 100.0, limit)
    assert decision.allowed and decision.remaining == 2 and tat == pytest.approx(100.5)
    assert decision.reset_after == pytest.approx(0.5)
    with pytest.raises(ValueError):
        Limit(rate=0, burst=1)


@pytest.mark.redis
async def test_two_redis_limiters_share_one_limit() -> None:
    clock = ManualClock()
    one = RedisRateLimiter.from_url(REDIS_URL, clock)
    two = RedisRateLimiter.from_url(REDIS_URL, clock)
    k, limit = key(), Limit(rate=1.0, burst=6)
    allowed = 0
    for i in range(12):
        allowed += (await (one if i % 2 else two).acquire(k, limit)).allowed
    assert allowed == 6
    await one.close()
    await two.close()


async def test_fallback_limits_locally_when_redis_is_down() -> None:
    clock = ManualClock()
    limiter = FallbackRateLimiter(
        RedisRateLimiter.from_url(UNREACHABLE, clock), MemoryRateLimiter(clock), clock
    )
    k, limit = key(), Limit(rate=1.0, burst=2)
    assert [(await limiter.acquire(k, limit)).allowed for _ in range(3)] == [True, True, False]
    assert limiter.degraded and limiter.fallbacks == 3
    await limiter.close()
