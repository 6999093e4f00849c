"""A plain search relayed from the router's protocol: admission to answer on callbacks.

The ASGI way costs a task per request, an ASGI scope walk, receive and send
messages and an awaited exchange; for a search of a few hundred bytes each
way that is most of what the router spends. ``SearchRelay`` takes over once
the protocol (``routing/protocol.py``) has the whole body: it makes the same
checks in the same order as ``RouterApp`` (key and tier, degradation,
shedding, rate limit, connection cap), picks the node as the table does,
writes one prepared request on a pooled keep-alive connection
(``UpstreamPool.relay``) and, from that connection's callback, writes the
node's status, headers and body back to the client in one write, its bytes
untouched.

Only the first attempt runs this way. A refused connection, a failed
exchange, a node's 502/503/504, a breaker that will not let the first
choice through or an https node hand the request to the standard path's
retry loop (``http_proxy._Forward.open``) in a task, as if that loop had
made the first attempt itself, so retries, the retry budget and their 503s
are the standard path's own.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import TYPE_CHECKING, Any

import aiohttp
from starlette.types import Scope
from uvicorn.protocols.http.httptools_impl import RequestResponseCycle

from ruvstream.api.whole_answer import write_lines, write_whole
from ruvstream.error_map import http_error
from ruvstream.errors import RuvstreamError

from .http_proxy import (
    NodeFailed,
    Upstream,
    _Forward,
    forwarded,
    judge_answer,
    judge_failure,
    search_request,
)
from .node import Node
from .router import Caller, Router
from .upstream import NodeAnswer, Outcome, UpstreamError

if TYPE_CHECKING:
    from .app import RouterApp

__all__ = ["SearchRelay"]

log = logging.getLogger(__name__)
_HEADERS_OF_ITS_OWN = frozenset(
    {b"connection", b"keep-alive", b"transfer-encoding", b"content-length"}
)
"""An https node's answer headers the relay replaces with its own length."""


class SearchRelay:
    """One plain search, from its whole body to its answer's last byte."""

    __slots__ = ("app", "body", "caller", "cycle", "node", "router", "started", "tasks")

    def __init__(self, app: RouterApp, cycle: RequestResponseCycle, tasks: set[Any]) -> None:
        assert app.router is not None
        self.app = app
        self.router: Router = app.router
        self.cycle = cycle
        self.tasks = tasks
        """The connection's task set, where a retry's task is held (uvicorn waits on it)."""
        self.body = b""
        self.caller: Caller | None = None
        self.node: Node | None = None
        self.started = 0.0

    @property
    def scope(self) -> Scope:
        return self.cycle.scope  # type: ignore[return-value]  # an HTTPScope, a Scope

    def start(self) -> None:
        """Admit the request and send it to its node, or answer the refusal."""
        router, scope = self.router, self.scope
        client = scope.get("client")
        try:
            caller = router.caller(scope, client[0] if client else None)
            if self.app.degradation is not None:
                self.app.degradation.check(caller.tier)
            router.admit_now(caller)
        except RuvstreamError as exc:
            write_error(self.cycle, exc)
            return
        self.caller = caller
        self.body = bytes(self.cycle.body)
        node = router.table.choose(caller.region)
        if node is None or not node.url.startswith("http://"):
            self._retry(set(), None)  # the loop answers 503, or takes the https node its way
        elif not node.breaker.allow():
            self._retry({node.name}, None)
        else:
            self._send(node)

    def _send(self, node: Node) -> None:
        router = self.router
        node.inflight += 1
        self.node, self.started = node, time.monotonic()
        scope = self.scope
        target: bytes = scope["raw_path"]
        if scope["query_string"]:
            target += b"?" + scope["query_string"]
        kept = b"".join([k + b": " + v + b"\r\n" for k, v in forwarded(router, scope["headers"])])
        request = search_request(router, target, kept, self.body, node.url)
        router.upstream.relay(node.url, request, self._answered)

    def _answered(self, outcome: Outcome) -> None:
        router, node, caller = self.router, self.node, self.caller
        assert node is not None and caller is not None
        elapsed = time.monotonic() - self.started
        failed: NodeFailed | None
        if isinstance(outcome, NodeAnswer):
            failed = judge_answer(router, node, outcome.status, elapsed)
        else:
            sent = outcome.sent if isinstance(outcome, UpstreamError) else True
            judge_failure(router, node, sent, elapsed)
            failed = NodeFailed(node, sent=sent)
        if failed is not None or not isinstance(outcome, NodeAnswer):
            node.inflight -= 1
            self._retry(set(), failed)
            return
        router.retry_budget.on_success()
        router.metrics.fast_searches.inc()
        try:
            write_answer(self.cycle, outcome, node)
        finally:
            node.inflight -= 1
            router.metrics.answered(node.region, outcome.status)
            router.release(caller)

    def _retry(self, tried: set[str], failure: NodeFailed | None) -> None:
        task = asyncio.ensure_future(self._retried(tried, failure))
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    async def _retried(self, tried: set[str], failure: NodeFailed | None) -> None:
        """The standard retry loop from where the first attempt left off."""
        router, caller, cycle = self.router, self.caller, self.cycle
        assert caller is not None
        try:
            forward = _Forward(router, self.scope, caller, self.body)
            try:
                node, response = await forward.open(tried, failure)
            except RuvstreamError as exc:
                router.metrics.requests.labels("none", "http", str(exc.status)[0] + "xx").inc()
                write_error(cycle, exc)
                return
            try:
                await _relay(cycle, node, response, router)
            finally:
                node.inflight -= 1
                response.release()
                router.metrics.answered(node.region, response.status)
        except Exception:
            log.exception("a relayed search failed")
            if not cycle.response_started:
                cycle.transport.close()
        finally:
            router.release(caller)


async def _relay(
    cycle: RequestResponseCycle, node: Node, response: Upstream, router: Router
) -> None:
    """The retry loop's answer, whole: the fast client's as it came, an https node's read."""
    if isinstance(response, NodeAnswer):
        router.metrics.fast_searches.inc()
        write_answer(cycle, response, node)
        return
    router.metrics.streamed_searches.inc()
    try:
        body = await response.read()
    except aiohttp.ClientError:
        cycle.transport.close()  # as a stream cut short: the client sees the answer end
        return
    headers = [
        (k.lower(), v) for k, v in response.raw_headers if k.lower() not in _HEADERS_OF_ITS_OWN
    ]
    write_answer(cycle, NodeAnswer(response.status, headers, body), node)


def write_answer(cycle: RequestResponseCycle, answer: NodeAnswer, node: Node) -> None:
    """The node's answer as the ASGI fast path sends it (``http_proxy._relay_whole``).

    Its headers are lowercase and name no connection (both the fast client and
    ``_relay`` drop those), so their lines go as they are.
    """
    lines = b"".join([name + b": " + value + b"\r\n" for name, value in answer.headers])
    ours = b"content-length: %d\r\nx-ruvstream-node: %s\r\n" % (
        len(answer.body),
        node.name.encode(),
    )
    write_lines(cycle, answer.status, lines + ours, answer.body)


def write_error(cycle: RequestResponseCycle, exc: RuvstreamError) -> None:
    """The error as ``responses.send_error`` sends it."""
    answer = http_error(exc)
    headers = [
        (b"content-type", answer.media_type.encode()),
        (b"content-length", b"%d" % len(answer.body)),
    ]
    headers += [(name.encode(), value.encode()) for name, value in answer.headers]
    write_whole(cycle, answer.status, headers, answer.body)
