"""AsyncSession: one WebSocket multiplexing many requests, kept alive across drops.

A supervisor task owns the socket: it connects (with jittered exponential
backoff after a failure), re-subscribes every standing query, re-sends every
request still waiting for an answer, then reads frames until the socket
drops. Requests are matched to replies by ``id``; writes always carry an
``idempotency_key``, so a write re-sent after a drop is applied once.

Invariants: a request is sent at most once per connection; a request waits
for an answer until the session's ``request_timeout`` (a ``ClientTimeoutError``)
or until the session gives up reconnecting (a ``SessionClosedError``); a
``rate_limited`` answer (too many in flight) is retried after its
``retry_after``. Heartbeats are WebSocket pings every ``heartbeat`` seconds;
a missing pong closes the socket and starts a reconnect. Given the client's
``cache``, a session's writes invalidate it and its answers' versions feed it.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from ssl import SSLContext
from typing import Any

import orjson
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, WebSocketException

from ruvstream.core.retry import Backoff, Retrier, RetryPolicy
from ruvstream.errors import SubscriptionNotFoundError, from_payload

from .cache import ResultCache
from .errors import ClientTimeoutError, ConnectError, SessionClosedError
from .models import Match, SearchResult, WriteResult
from .protocol import RecordLike, dumps, is_retryable, record_json, search_body
from .subscription import Subscription

__all__ = ["AsyncSession"]

log = logging.getLogger(__name__)


@dataclass(slots=True)
class _Pending:
    data: bytes
    future: asyncio.Future[dict[str, Any]]
    generation: int = 0


class AsyncSession:
    def __init__(
        self,
        url: str,
        *,
        heartbeat: float = 10.0,
        open_timeout: float = 10.0,
        request_timeout: float = 30.0,
        max_inflight: int = 256,
        reconnect: Backoff | None = None,
        max_reconnect_attempts: int | None = None,
        retry: RetryPolicy | None = None,
        max_message_bytes: int = 64 * 1024 * 1024,
        cache: ResultCache | None = None,
        api_key: str | None = None,
        ssl: SSLContext | None = None,
    ) -> None:
        self.url = url
        self.headers = {"Authorization": f"Bearer {api_key}"} if api_key else None
        self.ssl = ssl
        self.heartbeat = heartbeat
        self.open_timeout = open_timeout
        self.request_timeout = request_timeout
        self.reconnect_backoff = reconnect or Backoff(base=0.05, cap=2.0)
        self.max_reconnect_attempts = max_reconnect_attempts
        self.retry = retry or RetryPolicy(max_attempts=8)
        self.max_message_bytes = max_message_bytes
        self.cache = cache
        self.reconnects = 0
        self._inflight = asyncio.Semaphore(max_inflight)
        self._ids = itertools.count(1)
        self._pending: dict[str, _Pending] = {}
        self._subs: dict[str, Subscription] = {}
        self._ws: ClientConnection | None = None
        self._generation = 0
        self._connected = asyncio.Event()
        self._closed = False
        self._failure: BaseException | None = None
        self._runner: asyncio.Task[None] | None = None

    @property
    def connected(self) -> bool:
        return self._connected.is_set()

    async def __aenter__(self) -> AsyncSession:
        await self.connect()
        return self

    async def __aexit__(self, *_: object) -> None:
        await self.close()

    async def connect(self) -> None:
        """Start the supervisor and wait for the first connection (``open_timeout``)."""
        if self._runner is None:
            self._runner = asyncio.create_task(self._run(), name=f"ruvstream-ws {self.url}")
        try:
            async with asyncio.timeout(self.open_timeout):
                await self._wait_connected()
        except TimeoutError as exc:
            await self.close()
            raise ConnectError(f"no WebSocket to {self.url} within {self.open_timeout}s") from exc

    async def close(self) -> None:
        self._closed = True
        if self._runner is not None:
            self._runner.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._runner
        self._shutdown(SessionClosedError("the session was closed"))

    # -- requests ---------------------------------------------------------------------
    async def search(
        self,
        collection: str,
        vector: Any,
        *,
        k: int = 10,
        filter: Mapping[str, Any] | None = None,
        ef: int | None = None,
    ) -> SearchResult:
        frame = {"op": "search", "collection": collection, **search_body(vector, k, filter, ef)}
        result = SearchResult.from_json(await self.request(frame))
        if self.cache is not None and result.version is not None:
            self.cache.observe(collection, result.version)
        return result

    async def upsert(
        self, collection: str, records: Iterable[RecordLike], *, idempotency_key: str | None = None
    ) -> WriteResult:
        frame = {
            "op": "upsert",
            "collection": collection,
            "records": [record_json(r) for r in records],
            "idempotency_key": idempotency_key or uuid.uuid4().hex,
        }
        return await self._write(collection, frame)

    async def delete(
        self, collection: str, ids: Iterable[str], *, idempotency_key: str | None = None
    ) -> WriteResult:
        frame = {
            "op": "delete",
            "collection": collection,
            "ids": list(ids),
            "idempotency_key": idempotency_key or uuid.uuid4().hex,
        }
        return await self._write(collection, frame)

    async def _write(self, collection: str, frame: dict[str, Any]) -> WriteResult:
        try:
            return WriteResult.from_json(await self.request(frame))
        finally:
            if self.cache is not None:
                self.cache.invalidate(collection)

    async def ping(self) -> None:
        await self.request({"op": "ping"})

    async def subscribe(
        self,
        collection: str,
        vector: Any,
        *,
        k: int | None = None,
        min_score: float | None = None,
        filter: Mapping[str, Any] | None = None,
    ) -> Subscription:
        """A standing query: every later upsert entering its result set arrives as a Match."""
        frame: dict[str, Any] = {"op": "subscribe", "collection": collection}
        frame.update(search_body(vector, k or 10, filter))
        if k is None:
            del frame["k"]
        if min_score is not None:
            frame["min_score"] = min_score
        request_id = self._next_id()
        frame["id"] = request_id
        sub = Subscription(request_id, frame, self._unsubscribe)
        self._subs[request_id] = sub
        try:
            reply = await self.request(frame, request_id=request_id)
        except BaseException:
            self._subs.pop(request_id, None)
            raise
        sub.activate(str(reply["subscription"]))
        return sub

    async def request(
        self, frame: Mapping[str, Any], *, request_id: str | None = None
    ) -> dict[str, Any]:
        """Send one frame and return its reply; error replies raise (retried when allowed)."""
        retrier = Retrier(self.retry, total=self.request_timeout)
        try:
            async with asyncio.timeout(self.request_timeout), self._inflight:
                while True:
                    reply = await self._roundtrip(frame, request_id)
                    if reply.get("type") != "error":
                        return reply
                    error = from_payload(reply.get("error") or {})
                    if not is_retryable(error, keyed=True):
                        raise error
                    delay = retrier.next_delay(error.retry_after)
                    if delay is None:
                        raise error
                    await asyncio.sleep(delay)
        except TimeoutError as exc:
            raise ClientTimeoutError(
                f"no answer within {self.request_timeout}s", phase="read"
            ) from exc

    # -- plumbing ----------------------------------------------------------------------
    def _next_id(self) -> str:
        return f"c{next(self._ids)}"

    async def _roundtrip(self, frame: Mapping[str, Any], request_id: str | None) -> dict[str, Any]:
        rid = request_id or self._next_id()
        pending = _Pending(dumps({**frame, "id": rid}), asyncio.get_running_loop().create_future())
        self._pending[rid] = pending
        try:
            await self._wait_connected()
            await self._send(pending)
            return await pending.future
        finally:
            self._pending.pop(rid, None)

    async def _send(self, pending: _Pending) -> None:
        """Send unless already sent on this connection; a drop leaves it for the resend."""
        ws = self._ws
        if ws is None or pending.generation == self._generation:
            return
        pending.generation = self._generation
        with contextlib.suppress(ConnectionClosed):
            await ws.send(pending.data.decode())

    async def _wait_connected(self) -> None:
        if self._connected.is_set():
            return
        runner = self._runner
        if self._closed or runner is None or runner.done():
            raise self._failure or SessionClosedError("the session is closed")
        waiter = asyncio.ensure_future(self._connected.wait())
        try:
            await asyncio.wait({waiter, runner}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            waiter.cancel()
        if not self._connected.is_set():
            raise self._failure or SessionClosedError("the session is closed")

    async def _unsubscribe(self, sub: Subscription) -> None:
        self._subs.pop(sub.request_id, None)
        server_id = sub.id
        sub.end()
        if server_id is not None and self.connected:
            with contextlib.suppress(SubscriptionNotFoundError, SessionClosedError):
                await self.request({"op": "unsubscribe", "subscription": server_id})

    async def _run(self) -> None:
        failures = 0
        while not self._closed:
            try:
                ws = await connect(
                    self.url,
                    ping_interval=self.heartbeat,
                    ping_timeout=self.heartbeat,
                    open_timeout=self.open_timeout,
                    close_timeout=1.0,
                    max_size=self.max_message_bytes,
                    max_queue=None,
                    additional_headers=self.headers,
                    ssl=self.ssl,
                )
            except (OSError, TimeoutError, WebSocketException) as exc:
                failures += 1
                limit = self.max_reconnect_attempts
                if limit is not None and failures > limit:
                    self._failure = SessionClosedError(f"gave up reconnecting to {self.url}: {exc}")
                    self._shutdown(self._failure)
                    return
                await asyncio.sleep(self.reconnect_backoff.delay(failures - 1))
                continue
            failures = 0
            await self._serve(ws)

    async def _serve(self, ws: ClientConnection) -> None:
        self._ws = ws
        self._generation += 1
        if self._generation > 1:
            self.reconnects += 1
        try:
            for sub in list(self._subs.values()):
                if sub.request_id not in self._pending:
                    with contextlib.suppress(ConnectionClosed):
                        await ws.send(dumps(sub.frame).decode())
            for pending in list(self._pending.values()):
                await self._send(pending)
            self._connected.set()
            with contextlib.suppress(ConnectionClosed):
                async for message in ws:
                    try:
                        self._dispatch(orjson.loads(message))
                    except (ValueError, KeyError, TypeError):
                        log.warning("ignoring a malformed frame: %.200r", message)
        finally:
            self._connected.clear()
            self._ws = None
            for sub in self._subs.values():
                sub.active.clear()
            await ws.close()

    def _dispatch(self, frame: dict[str, Any]) -> None:
        rid, kind = frame.get("id"), frame.get("type")
        if kind == "matches":  # one write's matches for this socket's subscriptions
            for entry in frame["matches"]:
                if (held := self._subs.get(entry.get("id"))) is not None:
                    held.deliver(Match.from_frame(entry))
            return
        sub = self._subs.get(rid) if isinstance(rid, str) else None
        if kind == "match" and sub is not None:
            sub.deliver(Match.from_frame(frame))
            return
        if kind == "end" and sub is not None:
            self._subs.pop(sub.request_id, None)
            sub.end()
            return
        pending = self._pending.get(rid) if isinstance(rid, str) else None
        if pending is not None and not pending.future.done():
            pending.future.set_result(frame)
        elif sub is not None and kind == "subscribed":
            sub.activate(str(frame["subscription"]))
        elif sub is not None and kind == "error":
            self._subs.pop(sub.request_id, None)
            sub.end(from_payload(frame.get("error") or {}))

    def _shutdown(self, error: BaseException) -> None:
        self._closed = True
        for pending in self._pending.values():
            if not pending.future.done():
                pending.future.set_exception(error)
        for sub in list(self._subs.values()):
            sub.end(self._failure)
        self._subs.clear()
