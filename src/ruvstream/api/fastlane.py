"""The WebSocket route, answered in plain ASGI below admission and above Starlette.

``/v1/ws`` carries most of a node's traffic that is not a plain HTTP search
(those the node's HTTP protocol, ``api/http_protocol.py``, answers before
any ASGI task exists). Starlette's exception middleware and router cost the
event loop time on every socket for nothing a socket uses, so the socket
skips them; admission still runs before it, and every other request goes
through Starlette as usual.

When the socket's ``receive`` and ``send`` are the node WebSocket protocol's
own (no layer wraps either), the session is handed that protocol too, for
its frame fast path (``api/ws_protocol.py``).
"""

from __future__ import annotations

from starlette.types import ASGIApp, Receive, Scope, Send
from starlette.websockets import WebSocket

from ruvstream.api.websocket import websocket_endpoint
from ruvstream.api.ws_protocol import NodeWebSocketProtocol

__all__ = ["FastLane"]


class FastLane:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "websocket" and scope["path"] == "/v1/ws":
            await websocket_endpoint(WebSocket(scope, receive, send), _own_protocol(receive, send))
            return
        await self.app(scope, receive, send)


def _own_protocol(receive: Receive, send: Send) -> NodeWebSocketProtocol | None:
    """The node protocol whose bound ``receive`` and ``send`` these are, else None."""
    protocol = getattr(receive, "__self__", None)
    if isinstance(protocol, NodeWebSocketProtocol) and getattr(send, "__self__", None) is protocol:
        return protocol
    return None
