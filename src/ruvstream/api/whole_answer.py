"""A whole HTTP answer, with its length, written as uvicorn's cycle would write it.

The node's search shortcut (``api/http_protocol.py``) and the router's relay
(``routing/relay.py``) answer without an ASGI task, so they write what
``RequestResponseCycle.send`` writes for a start and a body with a length,
in one piece, and mark the cycle done the same way. The server's default
headers (its date and name) change once a second at most: their lines are
made once per list uvicorn hands out, not once per answer.
"""

from __future__ import annotations

from typing import Any

from uvicorn.protocols.http.httptools_impl import STATUS_LINE, RequestResponseCycle

from ruvstream.api.coalesce import CoalescingTransport

__all__ = ["write_lines", "write_whole"]


class _DefaultLines:
    """The header lines of the last default-header list seen, and whether it closes."""

    __slots__ = ("closing", "lines", "source")

    def __init__(self) -> None:
        self.source: list[tuple[bytes, bytes]] | None = None
        """Held so its identity cannot pass to another list."""
        self.lines = b""
        self.closing = False

    def of(self, headers: list[tuple[bytes, bytes]]) -> bytes:
        if headers is not self.source:
            lines: list[bytes] = []
            closing = False
            for name, value in headers:
                name = name.lower()
                if name == b"connection" and b"close" in value.lower():
                    closing = True
                lines += [name, b": ", value, b"\r\n"]
            self.source, self.lines, self.closing = headers, b"".join(lines), closing
        return self.lines


_DEFAULTS = _DefaultLines()


def write_whole(
    cycle: RequestResponseCycle, status: int, headers: list[tuple[bytes, bytes]], body: bytes
) -> None:
    """``status``, the server's default headers, ``headers`` and ``body``, at once."""
    lines: list[bytes] = []
    closing = False
    for name, value in headers:
        name = name.lower()
        if name == b"connection" and b"close" in value.lower():
            closing = True
        lines += [name, b": ", value, b"\r\n"]
    write_lines(cycle, status, b"".join(lines), body, closing=closing)


def write_lines(
    cycle: RequestResponseCycle, status: int, lines: bytes, body: bytes, *, closing: bool = False
) -> None:
    """``write_whole`` for header lines made already: lowercase names, each line ending in
    CRLF; ``closing``: one of them is ``connection: close``."""
    if cycle.disconnected:
        return
    defaults = _DEFAULTS.of(cycle.default_headers)
    closing = closing or _DEFAULTS.closing
    if not cycle.keep_alive and not closing:
        lines += b"connection: close\r\n"
    cycle.keep_alive = cycle.keep_alive and not closing
    whole = b"".join((STATUS_LINE[status], defaults, lines, b"\r\n", body))
    transport: Any = cycle.transport
    if isinstance(transport, CoalescingTransport):
        transport.write_now(whole)  # one piece already: no pass to wait for
    else:
        transport.write(whole)
    cycle.response_started = cycle.response_complete = True
    cycle.message_event.set()
    if not cycle.keep_alive:
        transport.close()
    cycle.on_response()
