"""One socket write per connection per event-loop pass.

uvicorn writes a response's head and its body with two ``transport.write``
calls, which on an idle socket are two ``send`` system calls, two TCP
segments and two wake-ups of the client, for a search answer of a few
hundred bytes. The node's HTTP protocol
(``api/http_protocol.py``) hands uvicorn a ``CoalescingTransport`` that
gathers what is written during one pass of the loop and sends it at the end
of that pass: one system call per answer, no added wait (the flush is the
next callback, not a timer). A WebSocket upgraded from it gets the plain
transport back: its frames are single writes already, and measured, the
extra pass per frame cost more than it saved.
"""

from __future__ import annotations

import asyncio
from typing import Any

__all__ = ["CoalescingTransport"]

_DIRECT_WRITE_BYTES = 64 * 1024
"""A write this large when nothing is pending goes out at once, uncopied."""


class CoalescingTransport:
    """A transport proxy whose writes leave together at the end of the loop pass."""

    def __init__(self, transport: asyncio.Transport, loop: asyncio.AbstractEventLoop) -> None:
        self._transport = transport
        self._loop = loop
        self._pending: list[bytes] = []

    def write(self, data: bytes | bytearray | memoryview) -> None:
        if not data:
            return
        if not self._pending:
            if len(data) >= _DIRECT_WRITE_BYTES:  # nothing to gain by waiting
                self._transport.write(data)
                return
            self._loop.call_soon(self._flush)
        self._pending.append(data if isinstance(data, bytes) else bytes(data))

    def write_whole(self, data: bytes) -> None:
        """A whole answer in one buffer: nothing to gather it with, so with nothing
        pending it goes out now (no extra loop pass), else after what is pending."""
        if self._pending:
            self._pending.append(data)
        else:
            self._transport.write(data)

    def writelines(self, chunks: Any) -> None:
        for chunk in chunks:
            self.write(chunk)

    def _flush(self) -> None:
        if not self._pending:
            return
        data = self._pending[0] if len(self._pending) == 1 else b"".join(self._pending)
        self._pending.clear()
        if not self._transport.is_closing():
            self._transport.write(data)

    def close(self) -> None:
        self._flush()  # a goodbye written just before close still goes out
        self._transport.close()

    def abort(self) -> None:
        self._pending.clear()
        self._transport.abort()

    def unwrap(self) -> asyncio.Transport:
        """The plain transport, with everything written so far sent."""
        self._flush()
        return self._transport

    def get_write_buffer_size(self) -> int:
        return self._transport.get_write_buffer_size() + sum(map(len, self._pending))

    def __getattr__(self, name: str) -> Any:
        return getattr(self._transport, name)
