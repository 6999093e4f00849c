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

Invariant: a connection is back in the pool only after a whole answer that
keeps it alive, so a pooled connection never holds unread bytes.
"""

from __future__ import annotations

import asyncio
import socket
import time
from typing import cast
from urllib.parse import urlsplit

import httptools

__all__ = ["NodeAnswer", "UpstreamError", "UpstreamPool"]

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


class _Connection(asyncio.Protocol):
    """One keep-alive connection; one exchange at a time."""

    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.idle_since = 0.0
        self._parser = httptools.HttpResponseParser(self)
        self._waiter: asyncio.Future[NodeAnswer] | None = None
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
            self._fail(UpstreamError(f"malformed answer: {exc}", sent=True))
            self.close()

    def connection_lost(self, exc: Exception | None) -> None:
        self.transport = None
        if self._started:
            self._fail(UpstreamError("the node closed the connection mid-answer", sent=True))
        else:
            self._fail(_Stale())

    # httptools callbacks
    def on_header(self, name: bytes, value: bytes) -> None:
        self._headers.append((name.lower(), value))

    def on_body(self, body: bytes) -> None:
        self._body.append(body)

    def on_message_complete(self) -> None:
        status = self._parser.get_status_code()
        headers = [(k, v) for k, v in self._headers if k not in _DROPPED]
        answer = NodeAnswer(status, headers, b"".join(self._body))
        if not self._parser.should_keep_alive():
            self.close()
        waiter, self._waiter = self._waiter, None
        if waiter is not None and not waiter.done():
            waiter.set_result(answer)

    def _fail(self, exc: Exception) -> None:
        waiter, self._waiter = self._waiter, None
        if waiter is not None and not waiter.done():
            waiter.set_exception(exc)

    def close(self) -> None:
        if self.transport is not None:
            self.transport.close()

    async def exchange(self, request: bytes, read_timeout: float) -> NodeAnswer:
        """Send ``request`` and wait for its whole answer (at most ``read_timeout`` s)."""
        assert self.transport is not None and self._waiter is None
        self._headers, self._body, self._started = [], [], False
        waiter: asyncio.Future[NodeAnswer] = asyncio.get_running_loop().create_future()
        self._waiter = waiter
        self.transport.write(request)
        try:
            async with asyncio.timeout(read_timeout):
                return await waiter
        except TimeoutError:
            self.close()
            raise UpstreamError(f"no answer in {read_timeout:g} s", sent=True) from None
        except BaseException:
            self._waiter = None
            self.close()  # cancelled mid-exchange: the answer would be left unread
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
