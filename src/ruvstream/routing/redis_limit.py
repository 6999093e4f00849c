"""Shared rate limits in Redis: the GCRA decision as one atomic Lua script.

One script call reads the key's TAT, decides, and writes the new TAT with an
expiry equal to the time the bucket takes to refill, so idle keys vanish and
two routers racing on one key serialise in Redis. ``FallbackRateLimiter``
keeps the service up when Redis is down: it answers from the in-process
limiter (a per-router limit, the best available) and tries Redis again after
``retry_seconds``.
"""

from __future__ import annotations

import logging

import redis.asyncio as aioredis
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from ruvstream.core.clock import Clock

from .ratelimit import Decision, Limit, RateLimiter

__all__ = ["FallbackRateLimiter", "RedisRateLimiter"]

log = logging.getLogger(__name__)

# KEYS[1] = key; ARGV = now, interval, burst, cost. Returns {allowed, remaining, retry, reset}
# as strings (Lua numbers become integers on the way out; floats must travel as text).
_GCRA = """
local now = tonumber(ARGV[1])
local t = tonumber(ARGV[2])
local burst = tonumber(ARGV[3])
local cost = tonumber(ARGV[4])
local tat = tonumber(redis.call('GET', KEYS[1]) or now)
local base = math.max(tat, now)
local new_tat = base + t * cost
local allow_at = new_tat - t * burst
if allow_at > now + 1e-9 then
  local remaining = math.max(0, math.floor((now - (base - t * burst)) / t + 1e-9))
  return {0, remaining, string.format('%.6f', allow_at - now),
    string.format('%.6f', base - now)}
end
local reset = new_tat - now
local ttl = math.max(1, math.ceil(reset * 1000))
redis.call('SET', KEYS[1], string.format('%.6f', new_tat), 'PX', ttl)
return {1, math.max(0, math.floor((now - allow_at) / t + 1e-9)), '0',
  string.format('%.6f', reset)}
"""


class RedisRateLimiter:
    def __init__(self, client: aioredis.Redis, clock: Clock, prefix: str = "ruvstream:rl:") -> None:
        self._redis = client
        self._clock = clock
        self._prefix = prefix
        self._script = client.register_script(_GCRA)

    @classmethod
    def from_url(cls, url: str, clock: Clock, timeout: float = 0.25) -> RedisRateLimiter:
        client = aioredis.Redis.from_url(
            url, socket_timeout=timeout, socket_connect_timeout=timeout
        )
        return cls(client, clock)

    async def acquire(self, key: str, limit: Limit, cost: int = 1) -> Decision:
        now = self._clock.now()
        reply = await self._script(
            keys=[self._prefix + key], args=[repr(now), repr(limit.interval), limit.burst, cost]
        )
        allowed, remaining, retry, reset = reply
        return Decision(bool(allowed), int(remaining), float(retry), float(reset))

    async def close(self) -> None:
        await self._redis.aclose()


class FallbackRateLimiter:
    """Primary (Redis) while it answers; the fallback while it does not."""

    def __init__(
        self,
        primary: RateLimiter,
        fallback: RateLimiter,
        clock: Clock,
        retry_seconds: float = 5.0,
    ) -> None:
        self._primary = primary
        self._fallback = fallback
        self._clock = clock
        self._retry_seconds = retry_seconds
        self._down_until = 0.0
        self.fallbacks = 0

    @property
    def degraded(self) -> bool:
        return self._clock.monotonic() < self._down_until

    async def acquire(self, key: str, limit: Limit, cost: int = 1) -> Decision:
        if not self.degraded:
            try:
                return await self._primary.acquire(key, limit, cost)
            except (RedisConnectionError, RedisTimeoutError, OSError) as exc:
                log.warning("shared rate limiter unreachable, limiting locally: %s", exc)
                self._down_until = self._clock.monotonic() + self._retry_seconds
        self.fallbacks += 1
        return await self._fallback.acquire(key, limit, cost)

    async def close(self) -> None:
        await self._primary.close()
        await self._fallback.close()
