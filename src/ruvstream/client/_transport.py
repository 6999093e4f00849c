"""HTTP transport: one pooled httpx client, per-call timeouts, and the retry loop.

One ``HttpTransport`` owns one ``httpx.AsyncClient`` (keep-alive pool, HTTP/2
when the server negotiates it over TLS). ``request`` runs a call under a total
deadline, turns httpx failures into the client error tree, and retries what
``protocol.is_retryable`` allows under the shared ``RetryBudget``. The retry
arithmetic itself lives in the pure ``ruvstream.core.retry``.
"""

from __future__ import annotations

import asyncio
import random
import ssl
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any, TypeVar

import aiohttp
import httpx
import orjson

from ruvstream.core.retry import Retrier, RetryBudget, RetryPolicy
from ruvstream.errors import RuvstreamError

from .errors import ClientTimeoutError, ConnectError, TransportError
from .pool import pooled_http_client
from .protocol import SseEvent, SseParser, decode_error, dumps, is_retryable

__all__ = ["HttpTransport", "Timeouts", "sse_events"]

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Timeouts:
    """Seconds: ``connect`` (TCP/TLS), ``read`` (between bytes), ``write``,
    ``pool`` (waiting for a pooled connection), ``total`` (the whole call, retries included)."""

    connect: float = 5.0
    read: float = 30.0
    write: float = 30.0
    pool: float = 10.0
    total: float | None = 60.0

    @classmethod
    def coerce(cls, value: Timeouts | float | None, default: Timeouts) -> Timeouts:
        """A float means a total deadline on top of the client's defaults."""
        if value is None:
            return default
        if isinstance(value, Timeouts):
            return value
        return cls(default.connect, min(default.read, value), default.write, default.pool, value)

    def httpx(self) -> httpx.Timeout:
        return httpx.Timeout(connect=self.connect, read=self.read, write=self.write, pool=self.pool)


def translate(exc: httpx.HTTPError) -> RuvstreamError:
    """httpx's failures as client errors; ConnectError means the request never left."""
    refused = isinstance(exc.__cause__, aiohttp.ClientConnectorError) and not isinstance(
        exc.__cause__, aiohttp.ServerTimeoutError
    )
    if isinstance(exc, httpx.ConnectTimeout) and refused:
        # httpx-aiohttp reports every failed connect as a timeout; a refusal is not one.
        return ConnectError(f"could not connect: {exc}")
    if isinstance(exc, httpx.ConnectTimeout):
        return ClientTimeoutError(f"connect timed out: {exc}", phase="connect")
    if isinstance(exc, httpx.PoolTimeout):
        return ClientTimeoutError(f"no pooled connection in time: {exc}", phase="pool")
    if isinstance(exc, httpx.ReadTimeout | httpx.WriteTimeout):
        return ClientTimeoutError(f"read timed out: {exc}", phase="read")
    if isinstance(exc, httpx.ConnectError):
        return ConnectError(f"could not connect: {exc}")
    return TransportError(f"{type(exc).__name__}: {exc}")


class HttpTransport:
    def __init__(
        self,
        base_url: str,
        *,
        timeouts: Timeouts,
        retry: RetryPolicy,
        budget: RetryBudget | None,
        max_connections: int = 100,
        max_keepalive: int = 20,
        http2: bool = True,
        headers: Mapping[str, str] | None = None,
        rng: Callable[[], float] = random.random,
        verify: ssl.SSLContext | bool = True,
    ) -> None:
        self.timeouts = timeouts
        self.retry = retry
        self.budget = budget
        self.rng = rng
        self.attempts = 0
        self.http = pooled_http_client(
            base_url,
            max_connections=max_connections,
            max_keepalive=max_keepalive,
            timeout=timeouts.httpx(),
            http2=http2 and base_url.startswith("https://"),
            headers=headers,
            verify=verify,
        )

    async def aclose(self) -> None:
        await self.http.aclose()

    async def retrying(
        self, attempt: Callable[[], Awaitable[T]], keyed: bool, timeouts: Timeouts
    ) -> T:
        """Run ``attempt`` until it succeeds, a failure is final, or the deadline passes."""
        retrier = Retrier(
            self.retry, self.budget, total=timeouts.total, clock=time.monotonic, rng=self.rng
        )
        try:
            async with asyncio.timeout(timeouts.total):
                while True:
                    self.attempts += 1
                    try:
                        result = await attempt()
                    except RuvstreamError as exc:
                        if not is_retryable(exc, keyed):
                            raise
                        delay = retrier.next_delay(exc.retry_after)
                        if delay is None:
                            raise
                        await asyncio.sleep(delay)
                        continue
                    retrier.succeeded()
                    return result
        except TimeoutError as exc:
            raise ClientTimeoutError(
                f"the call did not finish within {timeouts.total}s", phase="total"
            ) from exc

    async def request(
        self,
        method: str,
        path: str,
        *,
        body: Any = None,
        headers: Mapping[str, str] | None = None,
        keyed: bool = True,
        timeouts: Timeouts | None = None,
    ) -> Any:
        """Send one call (retried as allowed) and return its decoded JSON answer."""
        timeouts = timeouts or self.timeouts
        content = None if body is None else dumps(body)
        send_headers = {"content-type": "application/json", **(headers or {})}

        async def attempt() -> Any:
            try:
                answer = await self.http.request(
                    method, path, content=content, headers=send_headers, timeout=timeouts.httpx()
                )
            except httpx.HTTPError as exc:
                raise translate(exc) from exc
            if answer.status_code >= 400:
                raise decode_error(
                    answer.status_code, answer.content, answer.headers.get("retry-after")
                )
            return orjson.loads(answer.content) if answer.content else {}

        return await self.retrying(attempt, keyed, timeouts)

    @asynccontextmanager
    async def stream(
        self, method: str, path: str, *, body: Any, headers: Mapping[str, str], timeouts: Timeouts
    ) -> AsyncIterator[httpx.Response]:
        """An open streaming answer; opening is retried (within ``total``), reading is not."""
        content = dumps(body)
        send_headers = {"content-type": "application/json", **headers}

        async def attempt() -> httpx.Response:
            request = self.http.build_request(
                method, path, content=content, headers=send_headers, timeout=timeouts.httpx()
            )
            try:
                answer = await self.http.send(request, stream=True)
            except httpx.HTTPError as exc:
                raise translate(exc) from exc
            if answer.status_code >= 400:
                try:
                    raw = await answer.aread()
                finally:
                    await answer.aclose()
                raise decode_error(answer.status_code, raw, answer.headers.get("retry-after"))
            return answer

        response = await self.retrying(attempt, True, timeouts)
        try:
            yield response
        finally:
            await response.aclose()


async def sse_events(response: httpx.Response) -> AsyncIterator[SseEvent]:
    """The events of a streaming answer; a broken stream raises a client error."""
    parser = SseParser()
    try:
        async for line in response.aiter_lines():
            if (event := parser.feed_line(line)) is not None:
                yield event
    except httpx.HTTPError as exc:
        raise translate(exc) from exc
