"""HTTP and SSE forwarding: pick a node, send, stream the answer back unbuffered.

Request bodies are read whole (bounded by ``max_payload_bytes``) so a retry
can send them again; responses stream chunk by chunk as the node writes them,
so SSE events reach the client as they are produced.

Retries: a request that never reached a node (connection refused, connect
timeout) or that the node refused with 503 (its admission answers that before
any work starts) is safe to send elsewhere whatever its method; a request that
reached a node and failed with 502/504, a reset or a timeout is sent elsewhere
only when it is idempotent (GET/HEAD/PUT/DELETE, search routes, or writes with
an ``Idempotency-Key``). Attempts are capped per call and by the router-wide
retry budget. A node that refuses connections is marked down at once (the
next successful probe brings it back).

Hedging (optional): an idempotent non-streaming read whose node has not
answered within ``hedge_after_ms`` is sent to a second node as well; the first
answer wins and the other is cancelled.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import time

import aiohttp
from starlette.types import Receive, Scope, Send

from ruvstream import tracing
from ruvstream.core.retry import Backoff, Retrier, RetryPolicy
from ruvstream.errors import PayloadTooLargeError, RuvstreamError, UnavailableError

from .node import Node
from .responses import send_error
from .router import Caller, Router
from .upstream import NodeAnswer, UpstreamError

__all__ = ["forward_http"]

_HOP_BY_HOP = frozenset(
    {
        b"connection",
        b"keep-alive",
        b"proxy-authenticate",
        b"proxy-authorization",
        b"te",
        b"trailer",
        b"transfer-encoding",
        b"upgrade",
        b"host",
        b"content-length",
    }
)
_CREDENTIALS = frozenset({b"authorization", b"x-api-key"})
"""The client's key, replaced by the router's node key when it has one."""
_RETRYABLE_STATUS = frozenset({502, 503, 504})
_SEARCH = re.compile(r"/v1/collections/[^/]+/search")
Upstream = aiohttp.ClientResponse | NodeAnswer
"""A node's answer: streamed (aiohttp) or read whole (the fast client)."""


class NodeFailed(Exception):
    """One attempt failed; ``sent`` says whether the node may have seen the request."""

    def __init__(self, node: Node, sent: bool, status: int | None = None) -> None:
        super().__init__(node.name)
        self.node, self.sent, self.status = node, sent, status


def _never_sent(exc: BaseException) -> bool:
    """True when the connection to the node was never made, so the node saw nothing."""
    return isinstance(exc, aiohttp.ClientConnectorError | aiohttp.ConnectionTimeoutError)


def _idempotent(method: str, path: str, headers: list[tuple[bytes, bytes]]) -> bool:
    if method in ("GET", "HEAD", "PUT", "DELETE", "OPTIONS"):
        return True
    if path.endswith(("/search", "/search/batch")):
        return True
    return any(name == b"idempotency-key" for name, _ in headers)


async def _read_body(receive: Receive, limit: int) -> bytes | None:
    """The whole request body, or None when the client left before sending it."""
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return None
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            raise PayloadTooLargeError(f"the body is over {limit} bytes", limit=limit)
        chunks.append(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks)


class _Forward:
    def __init__(self, router: Router, scope: Scope, caller: Caller, body: bytes) -> None:
        self.router = router
        self.caller = caller
        self.method: str = scope["method"]
        raw_headers: list[tuple[bytes, bytes]] = scope["headers"]
        self.kept = forwarded(router, raw_headers)
        query: bytes = scope.get("query_string", b"")
        self.raw_target: bytes = scope.get("raw_path") or scope["path"].encode()
        self.raw_target += b"?" + query if query else b""
        self.body = body
        self.idempotent = _idempotent(self.method, scope["path"], raw_headers)
        self.path: str = scope["path"]
        self.streaming = any(
            k == b"accept" and b"text/event-stream" in v for k, v in raw_headers
        ) or scope["path"].endswith("/events")
        self.plain = (
            router.settings.proxy_mode == "fast"
            and self.method == "POST"
            and not self.streaming
            and _SEARCH.fullmatch(self.path) is not None
            and not any(k == b"expect" for k, _ in raw_headers)
            and not tracing.enabled()  # the prepared request carries no traceparent
        )
        """A plain JSON search: sent by the fast client, its answer relayed whole."""
        self._prepared: bytes | None = None

    @property
    def headers(self) -> list[tuple[str, str]]:
        """The forwarded headers as aiohttp takes them."""
        kept = [(k.decode("latin-1"), v.decode("latin-1")) for k, v in self.kept]
        return kept + list(self.router.node_headers.items())

    def prepared(self, node: Node) -> bytes:
        """The whole request for ``node``'s fast client; the header lines made once."""
        if self._prepared is None:
            self._prepared = b"".join(k + b": " + v + b"\r\n" for k, v in self.kept)
        return search_request(self.router, self.raw_target, self._prepared, self.body, node.url)

    async def exchange(self, node: Node) -> Upstream:
        """One send to ``node``; raises ``NodeFailed`` when it fails."""
        router = self.router
        if self.plain and node.url.startswith("http://"):
            try:
                return await router.upstream.request(node.url, self.prepared(node))
            except UpstreamError as exc:
                raise NodeFailed(node, sent=exc.sent) from exc
        try:
            return await router.session.request(
                self.method,
                node.url + self.raw_target.decode("latin-1"),  # percent-encoded; yarl keeps it
                headers=tracing.outgoing_headers(self.headers),
                data=self.body or None,
                allow_redirects=False,
            )
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise NodeFailed(node, sent=not _never_sent(exc)) from exc

    async def attempt(self, node: Node) -> Upstream:
        """Send to ``node``; returns a response with a non-retryable status, open for streaming."""
        router = self.router
        started = time.monotonic()
        try:
            response = await self.exchange(node)
        except NodeFailed as failure:
            judge_failure(router, node, failure.sent, time.monotonic() - started)
            raise
        failed = judge_answer(router, node, response.status, time.monotonic() - started)
        if failed is not None:
            response.release()
            raise failed
        return response

    async def attempt_on(self, node: Node) -> tuple[Node, Upstream]:
        """``attempt`` with the node's in-flight count held until the caller releases it."""
        node.inflight += 1
        try:
            return node, await self.attempt(node)
        except BaseException as exc:
            node.inflight -= 1
            if isinstance(exc, asyncio.CancelledError):
                node.breaker.release()
            raise

    async def hedged(self, first: Node, delay: float) -> tuple[Node, Upstream]:
        """Race ``first`` against a second node started after ``delay`` without an answer."""
        tasks = [asyncio.ensure_future(self.attempt_on(first))]
        done, _ = await asyncio.wait(tasks, timeout=delay)
        if not done:
            second = self.router.table.choose(self.caller.region, exclude={first.name})
            if second is not None and second.breaker.allow():
                self.router.metrics.hedges.inc()
                tasks.append(asyncio.ensure_future(self.attempt_on(second)))
        winner: tuple[Node, Upstream] | None = None
        error: BaseException | None = None
        pending = set(tasks)
        while pending and winner is None:
            done, pending = await asyncio.wait(pending, return_when=asyncio.FIRST_COMPLETED)
            for task in done:
                if task.exception() is not None:
                    error = task.exception()
                elif winner is None:
                    winner = task.result()
                else:
                    await _discard(task.result())
        for task in pending:
            task.cancel()
        for task in pending:
            with contextlib.suppress(BaseException):
                await _discard(await task)
        if winner is None:
            raise error or UnavailableError("no node answered", retry_after=1.0)
        return winner

    def pinned(self, tried: set[str]) -> Node | None:
        """The node holding the subscription this request names, while it is routable."""
        name = self.router.affinity.node_for(self.path)
        for node in self.router.table.nodes:
            if node.name == name and name not in tried and self.router.table.routable(node):
                return node
        return None

    async def open(
        self, tried: set[str] | None = None, failure: NodeFailed | None = None
    ) -> tuple[Node, Upstream]:
        """Find a node that answers, retrying elsewhere where that is safe.

        ``tried`` and ``failure``: where a first attempt made elsewhere (the
        protocol's fast path) left off, as if this loop had made it.
        """
        router = self.router
        retrier = Retrier(
            RetryPolicy(router.settings.max_attempts, Backoff(base=0.01, cap=0.2)),
            router.retry_budget,
        )
        tried = set() if tried is None else tried
        while True:
            if failure is not None:
                await self._after(failure, retrier, tried)
                failure = None
            node = self.pinned(tried) or router.table.choose(self.caller.region, exclude=tried)
            if node is None:
                raise UnavailableError("no healthy node can take the request", retry_after=1.0)
            if not node.breaker.allow():
                tried.add(node.name)
                continue
            try:
                hedge = router.settings.hedge_after_ms
                if hedge and self.idempotent and not self.streaming:
                    result = await self.hedged(node, hedge / 1000.0)
                else:
                    result = await self.attempt_on(node)
                retrier.succeeded()
                return result
            except NodeFailed as failed:
                failure = failed

    async def _after(self, failure: NodeFailed, retrier: Retrier, tried: set[str]) -> None:
        """Wait before the next attempt, or raise the 503 when there is none."""
        tried.add(failure.node.name)
        if failure.sent and not self.idempotent:
            raise UnavailableError(
                "the node failed while handling a non-idempotent request",
                retry_after=1.0,
                node=failure.node.name,
            ) from failure
        delay = retrier.next_delay()
        if delay is None:
            raise UnavailableError(
                "the nodes tried did not answer", retry_after=1.0, tried=sorted(tried)
            ) from failure
        self.router.metrics.retries.inc()
        await asyncio.sleep(delay)


def judge_failure(router: Router, node: Node, sent: bool, elapsed: float) -> None:
    """Passive health after a failed send; a node that refused the connection is down."""
    router.record(node, False, elapsed)
    if not sent:
        node.healthy = False


def judge_answer(router: Router, node: Node, status: int, elapsed: float) -> NodeFailed | None:
    """Passive health after an answer; the failure to retry elsewhere for 502/503/504."""
    router.metrics.upstream(node.region).observe(elapsed)
    if status in _RETRYABLE_STATUS or status == 500:
        router.record(node, False, elapsed)
        if status in _RETRYABLE_STATUS:
            # A node's 503 is its admission refusing work it never started.
            return NodeFailed(node, sent=status != 503, status=status)
    else:
        router.record(node, True, elapsed)
    return None


def search_request(router: Router, target: bytes, kept: bytes, body: bytes, url: str) -> bytes:
    """A plain search as the fast client sends it to the node at ``url``; ``kept``: the
    header lines of what ``forwarded`` keeps."""
    line = b"POST " + target + b" HTTP/1.1\r\n"
    length = b"content-length: %d\r\n\r\n" % len(body)
    return line + router.upstream.host_header(url) + kept + router.node_header_bytes + length + body


def forwarded(router: Router, headers: list[tuple[bytes, bytes]]) -> list[tuple[bytes, bytes]]:
    """The client's headers a node sees: no hop-by-hop ones, no key when the router has its own."""
    dropped = _CREDENTIALS | _HOP_BY_HOP if router.node_headers else _HOP_BY_HOP
    return [(k, v) for k, v in headers if k.lower() not in dropped]


async def _discard(result: tuple[Node, Upstream]) -> None:
    node, response = result
    node.inflight -= 1
    response.close()  # a hedge loser: its connection carries an unread answer


async def _stream(
    response: aiohttp.ClientResponse,
    node: Node,
    send: Send,
    receive: Receive,
    keep: list[bytes] | None = None,
) -> None:
    """Copy the node's answer to the client as it arrives; stop when the client leaves.

    ``keep``, when given, also receives every chunk (for small answers the router
    must read, such as a subscription's id).
    """
    headers = [(k, v) for k, v in response.raw_headers if k.lower() not in _HOP_BY_HOP]
    headers.append((b"x-ruvstream-node", node.name.encode()))
    await send({"type": "http.response.start", "status": response.status, "headers": headers})

    async def pump() -> None:
        async for chunk in response.content.iter_any():
            if keep is not None:
                keep.append(chunk)
            await send({"type": "http.response.body", "body": chunk, "more_body": True})
        await send({"type": "http.response.body", "body": b""})

    async def watch_disconnect() -> None:
        while (await receive())["type"] != "http.disconnect":
            pass

    pumping = asyncio.ensure_future(pump())
    watching = asyncio.ensure_future(watch_disconnect())
    try:
        await asyncio.wait({pumping, watching}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in (pumping, watching):
            task.cancel()
        results = await asyncio.gather(pumping, watching, return_exceptions=True)
    failure = results[0]
    if isinstance(failure, Exception) and not isinstance(failure, aiohttp.ClientError):
        raise failure


async def _relay_whole(answer: NodeAnswer, node: Node, send: Send) -> None:
    """A whole answer in two sends: no chunked re-encoding, no tasks to watch the client."""
    length = (b"content-length", b"%d" % len(answer.body))
    headers = [*answer.headers, length, (b"x-ruvstream-node", node.name.encode())]
    await send({"type": "http.response.start", "status": answer.status, "headers": headers})
    await send({"type": "http.response.body", "body": answer.body})


async def forward_http(
    router: Router, caller: Caller, scope: Scope, receive: Receive, send: Send
) -> None:
    """Forward one admitted request; the caller releases admission afterwards."""
    try:
        body = await _read_body(receive, router.settings.max_payload_bytes)
        if body is None:
            return
        forward = _Forward(router, scope, caller, body)
        node, response = await forward.open()
    except RuvstreamError as exc:
        router.metrics.requests.labels("none", "http", str(exc.status)[0] + "xx").inc()
        await send_error(send, exc)
        return
    try:
        if isinstance(response, NodeAnswer):
            router.metrics.fast_searches.inc()
            await _relay_whole(response, node, send)
            return
        if _SEARCH.fullmatch(forward.path):
            router.metrics.streamed_searches.inc()
        keep: list[bytes] | None = None
        if response.status == 201 and router.affinity.creates(forward.method, forward.path):
            keep = []
        await _stream(response, node, send, receive, keep)
        if keep is not None:
            router.affinity.remember(b"".join(keep), node.name)
    finally:
        node.inflight -= 1
        response.release()  # back to the pool when fully read, else the connection closes
        router.metrics.requests.labels(node.region, "http", f"{response.status // 100}xx").inc()
