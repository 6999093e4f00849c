"""The fast path's HTTP/1.1 client to nodes: pooled keep-alive sockets, one write a request.

A plain JSON search is small both ways, so the router sends it as one
prepared byte string (request line, headers, body) on an idle keep-alive
connection to its node and reads the answer whole with httptools, the parser
uvicorn itself uses. No request object, header mapping or payload writer is
built per request (aiohttp's client spent more of the router's loop on that
than on the search's bytes), and the answer goes back with its own
``Content-Length`` instead of being re-chunked.

Failures keep the proxy's distinction: ``UpstreamError.sent`` is False when
the node cannot have seen the request (the connection was never made). A
pooled connection that the node closed while it sat idle is found out when
its answer ends before its first byte; the request then goes once more on a
fresh connection. Only idempotent requests (searches) take this client, so
that second send is safe even if the node did read the first.

A connection's read deadline has one timer that moves only to come sooner:
an answer just marks the exchange done, and the timer, when it fires, lapses
or sets itself for the deadline of the exchange under way, so a search on a
busy connection costs no timer calls.

Invariant: a connection is back in the pool only after a whole answer that
keeps it alive, so a pooled connection never holds unread bytes.
"""

from __future__ import annotations

import asyncio
import socket
import time
from collections.abc import Callable
from typing import cast
from urllib.parse import urlsplit

import httptools

__all__ = ["NodeAnswer", "OnAnswer", "Outcome", "UpstreamError", "UpstreamPool"]

_DROPPED = frozenset(
    {b"connection", b"keep-alive", b"transfer-encoding", b"content-length", b"trailer"}
)
"""Answer headers that describe the node's connection, not the answer."""


class UpstreamError(Exception):
    """One exchange with a node failed; ``sent``: the node may have seen the request."""

    def __init__(self, message: str, *, sent: bool) -> None:
        super().__init__(message)
        self.sent = sent


class _Stale(Exception):
    """A reused connection ended before any byte of its answer."""


class NodeAnswer:
    """A node's whole answer; ``release`` and ``close`` match a streamed response's."""

    __slots__ = ("body", "headers", "status")

    def __init__(self, status: int, headers: list[tuple[bytes, bytes]], body: bytes) -> None:
        self.status = status
        self.headers = headers
        self.body = body

    def release(self) -> None:
        """Nothing to release: the connection went back to its pool with the answer read."""

    def close(self) -> None:
        """Nothing to close, as ``release``."""


Outcome = NodeAnswer | Exception
"""What an exchange ends with: the answer, ``UpstreamError`` or ``_Stale``."""
OnAnswer = Callable[[Outcome], None]


class _Connection(asyncio.Protocol):
    """One keep-alive connection; one exchange at a time, its end told to a callback."""

    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.idle_since = 0.0
        self._parser = httptools.HttpResponseParser(self)
        self._on_answer: OnAnswer | None = None
        self._timer: asyncio.TimerHandle | None = None
        self._fires_at = 0.0
        self._due: float | None = None
        """When the exchange under way times out; None between exchanges."""
        self._headers: list[tuple[bytes, bytes]] = []
        self._body: list[bytes] = []
        self._started = False

    @property
    def open(self) -> bool:
        return self.transport is not None and not self.transport.is_closing()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)  # uvloop's is not a subclass
        sock = transport.get_extra_info("socket")
        if sock is not None:  # small requests must not wait for a delayed ACK
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def data_received(self, data: bytes) -> None:
        self._started = True
        try:
            self._parser.feed_data(data)
        except httptools.HttpParserError as exc:
            self._finish(UpstreamError(f"malformed answer: {exc}", sent=True))
            self.close()

    def connection_lost(self, exc: Exception | None) -> None:
        self.transport = None
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if self._started:
            self._finish(UpstreamError("the node closed the connection mid-answer", sent=True))
        else:
            self._finish(_Stale())

    # httptools callbacks
    def on_header(self, name: bytes, value: bytes) -> None:
        name = name.lower()
        if name not in _DROPPED:
            self._headers.append((name, value))

    def on_body(self, body: bytes) -> None:
        self._body.append(body)

    def on_message_complete(self) -> None:
        status = self._parser.get_status_code()
        headers = self._headers
        body = self._body[0] if len(self._body) == 1 else b"".join(self._body)
        if not self._parser.should_keep_alive():
            self.close()
        self._finish(NodeAnswer(status, headers, body))

    def _finish(self, outcome: Outcome) -> None:
        on_answer, self._on_answer = self._on_answer, None
        self._due = None  # the timer lapses when it fires
        if on_answer is not None:
            on_answer(outcome)

    def _arm(self, seconds: float) -> None:
        """Time the exchange out ``seconds`` from now; the timer moves only to come sooner."""
        loop = asyncio.get_running_loop()
        self._due = loop.time() + seconds
        if self._timer is None or self._fires_at > self._due:
            if self._timer is not None:
                self._timer.cancel()
            self._fires_at = self._due
            self._timer = loop.call_later(seconds, self._check_deadline, seconds)

    def _check_deadline(self, seconds: float) -> None:
        self._timer = None
        if self._due is None:
            return  # no exchange under way: lapse until the next one arms it
        loop = asyncio.get_running_loop()
        left = self._due - loop.time()
        if left > 0:
            self._fires_at = self._due
            self._timer = loop.call_later(left, self._check_deadline, seconds)
            return
        self._finish(UpstreamError(f"no answer in {seconds:g} s", sent=True))
        self.close()

    def close(self) -> None:
        if self.transport is not None:
            self.transport.close()

    def send(self, request: bytes, on_answer: OnAnswer, read_timeout: float) -> None:
        """Send ``request``; ``on_answer`` gets its whole answer or the failure, once."""
        assert self.transport is not None and self._on_answer is None
        self._headers, self._body, self._started = [], [], False
        self._on_answer = on_answer
        self._arm(read_timeout)
        self.transport.write(request)

    def abandon(self) -> None:
        """Stop waiting (the caller was cancelled): the answer would be left unread."""
        self._on_answer = None
        self.close()

    async def exchange(self, request: bytes, read_timeout: float) -> NodeAnswer:
        """``send`` awaited: the whole answer, or its failure raised."""
        waiter: asyncio.Future[NodeAnswer] = asyncio.get_running_loop().create_future()

        def settle(outcome: Outcome) -> None:
            if waiter.done():
                return
            if isinstance(outcome, Exception):
                waiter.set_exception(outcome)
            else:
                waiter.set_result(outcome)

        self.send(request, settle, read_timeout)
        try:
            return await waiter
        except asyncio.CancelledError:
            self.abandon()
            raise


class UpstreamPool:
    """Idle keep-alive connections per node address, made on demand, dropped when stale.

    ``idle_seconds`` stays under the nodes' keep-alive timeout (30 s) so the
    router, not the node, usually ends an idle connection.
    """

    def __init__(
        self,
        connect_timeout: float,
        read_timeout: float,
        idle_seconds: float = 15.0,
        max_idle: int = 256,
    ) -> None:
        self.connect_timeout = connect_timeout
        self.read_timeout = read_timeout
        self.idle_seconds = idle_seconds
        self.max_idle = max_idle
        self._idle: dict[str, list[_Connection]] = {}
        self._addresses: dict[str, tuple[str, int]] = {}
        self._hosts: dict[str, bytes] = {}
        self._tasks: set[asyncio.Future[None]] = set()
        """``relay``'s connecting exchanges, held so they are not collected mid-way."""

    def host_header(self, url: str) -> bytes:
        """``host: HOST:PORT\\r\\n`` for the node at ``url`` (made once per node)."""
        line = self._hosts.get(url)
        if line is None:
            line = b"host: " + urlsplit(url).netloc.encode("latin-1") + b"\r\n"
            self._hosts[url] = line
        return line

    async def request(self, url: str, request: bytes) -> NodeAnswer:
        """One exchange with the node at ``url`` (``http://HOST:PORT``)."""
        connection = self._take(url)
        if connection is not None:
            try:
                answer = await connection.exchange(request, self.read_timeout)
            except _Stale:
                pass  # closed by the node while idle: send it on a fresh connection
            else:
                self._give_back(url, connection)
                return answer
        connection = await self._connect(url)
        try:
            answer = await connection.exchange(request, self.read_timeout)
        except _Stale:
            raise UpstreamError("the node closed the connection unanswered", sent=True) from None
        self._give_back(url, connection)
        return answer

    def relay(self, url: str, request: bytes, on_answer: OnAnswer) -> None:
        """``request`` without a task when an idle connection waits, else as ``request``.

        ``on_answer`` gets the ``NodeAnswer`` or an ``UpstreamError``, once, and
        never from inside this call.
        """
        connection = self._take(url)
        if connection is None:
            self._in_task(url, request, on_answer)
            return

        def answered(outcome: Outcome) -> None:
            if isinstance(outcome, _Stale):  # closed by the node while idle: go again, fresh
                self._in_task(url, request, on_answer)
                return
            if isinstance(outcome, NodeAnswer):
                self._give_back(url, connection)
            on_answer(outcome)

        connection.send(request, answered, self.read_timeout)

    def _in_task(self, url: str, request: bytes, on_answer: OnAnswer) -> None:
        async def run() -> None:
            try:
                outcome: Outcome = await self.request(url, request)
            except UpstreamError as exc:
                outcome = exc
            on_answer(outcome)

        task = asyncio.ensure_future(run())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _take(self, url: str) -> _Connection | None:
        idle = self._idle.get(url)
        now = time.monotonic()
        while idle:
            connection = idle.pop()
            if connection.open and now - connection.idle_since < self.idle_seconds:
                return connection
            connection.close()
        return None

    def _give_back(self, url: str, connection: _Connection) -> None:
        idle = self._idle.setdefault(url, [])
        if connection.open and len(idle) < self.max_idle:
            connection.idle_since = time.monotonic()
            idle.append(connection)
        else:
            connection.close()

    async def _connect(self, url: str) -> _Connection:
        address = self._addresses.get(url)
        if address is None:
            parts = urlsplit(url)
            address = (parts.hostname or "", parts.port or 80)
            self._addresses[url] = address
        loop = asyncio.get_running_loop()
        try:
            async with asyncio.timeout(self.connect_timeout):
                _, connection = await loop.create_connection(_Connection, *address)
        except (OSError, TimeoutError) as exc:
            raise UpstreamError(f"cannot connect to {url}: {exc}", sent=False) from exc
        return connection

    def forget(self, url: str) -> None:
        """Close the idle connections to a node that left the table."""
        for connection in self._idle.pop(url, []):
            connection.close()
        self._addresses.pop(url, None)
        self._hosts.pop(url, None)

    def close(self) -> None:
        for idle in self._idle.values():
            for connection in idle:
                connection.close()
        self._idle.clear()
