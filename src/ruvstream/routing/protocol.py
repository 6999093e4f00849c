"""The router's HTTP/1.1 protocol: uvicorn's httptools one, one socket write per answer.

uvicorn writes an answer's head and body with two ``transport.write`` calls:
two system calls and two segments for a search answer of a few hundred
bytes. As the node does (``api/coalesce.py``), the router's connections get
a ``CoalescingTransport``, which sends what one loop pass wrote at the end
of that pass; an upgraded WebSocket gets the plain transport back. Used with
``proxy_mode`` fast; standard keeps uvicorn's protocol untouched.
"""

from __future__ import annotations

import asyncio
from typing import Any

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from ruvstream.api.coalesce import CoalescingTransport

__all__ = ["RouterHttpProtocol"]


class RouterHttpProtocol(HttpToolsProtocol):
    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        coalescing: Any = CoalescingTransport(transport, self.loop)
        super().connection_made(coalescing)

    def handle_websocket_upgrade(self) -> None:
        if isinstance(self.transport, CoalescingTransport):
            self.transport = self.transport.unwrap()
        super().handle_websocket_upgrade()
