"""WebSocket relay: one client session pinned to one node, moved when that node fails.

The client's socket is accepted only once a node socket is open, so a
session that cannot be placed is refused (close 1013, "try again later")
rather than accepted and dropped. Frames pass through as they are, in both
directions. When the node's socket dies under a live client, the session
moves to another node (nearest healthy region first) and the client gets one
frame ``{"id": null, "type": "error", "error": {"code": "unavailable",
"details": {"moved_to": <node>}}}``: requests in flight on the lost node got
no answer and standing subscriptions must be made again.
"""

from __future__ import annotations

import asyncio
import contextlib
import time

import orjson
import websockets
from starlette.types import Receive, Scope, Send
from websockets.asyncio.client import ClientConnection
from websockets.exceptions import ConnectionClosed

from ruvstream import tracing
from ruvstream.error_map import CLOSE_NORMAL, CLOSE_TRY_AGAIN_LATER, error_frame
from ruvstream.errors import UnavailableError

from .node import Node
from .router import Caller, Router

__all__ = ["relay_websocket"]


class _ClientGone(Exception):
    """The client closed its socket: the session ends."""


async def _connect(
    router: Router, caller: Caller, path: str, tried: set[str], headers: dict[str, str]
) -> tuple[Node, ClientConnection] | None:
    while True:
        node = router.table.choose(caller.region, exclude=tried)
        if node is None:
            return None
        if not node.breaker.allow():
            tried.add(node.name)
            continue
        started = time.monotonic()
        try:
            upstream = await websockets.connect(
                node.ws_url.removesuffix("/") + path,
                open_timeout=router.settings.connect_timeout,
                max_size=router.settings.max_payload_bytes,
                ping_interval=10.0,
                ping_timeout=10.0,
                # the client's key headers, and the router's span if traced
                additional_headers=tracing.outgoing_headers(headers.items()) or None,
            )
        except (OSError, TimeoutError, websockets.InvalidHandshake):
            router.record(node, False, time.monotonic() - started)
            node.healthy = False
            tried.add(node.name)
            continue
        router.record(node, True, time.monotonic() - started)
        return node, upstream


async def _client_to_node(receive: Receive, upstream: ClientConnection) -> None:
    while True:
        message = await receive()
        if message["type"] == "websocket.disconnect":
            raise _ClientGone
        if message.get("text") is not None:
            await upstream.send(message["text"])
        elif message.get("bytes") is not None:
            await upstream.send(message["bytes"])


async def _node_to_client(upstream: ClientConnection, send: Send) -> None:
    async for frame in upstream:
        if isinstance(frame, str):
            await send({"type": "websocket.send", "text": frame})
        else:
            await send({"type": "websocket.send", "bytes": frame})


async def _pump(receive: Receive, send: Send, upstream: ClientConnection) -> bool:
    """Relay until one side ends; False when the node's socket died, True otherwise.

    The node is the one that failed when its socket closed under us (reading or
    writing it raised ``ConnectionClosed``, or its frames simply ended); a
    client that left, or a failed write to the client, ends the session.
    """
    to_node = asyncio.ensure_future(_client_to_node(receive, upstream))
    to_client = asyncio.ensure_future(_node_to_client(upstream, send))
    try:
        done, _ = await asyncio.wait({to_node, to_client}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in (to_node, to_client):
            task.cancel()
        await asyncio.gather(to_node, to_client, return_exceptions=True)
        with contextlib.suppress(Exception):
            await upstream.close()
    node_died = (
        to_client in done
        and not to_client.cancelled()
        and (to_client.exception() is None or isinstance(to_client.exception(), ConnectionClosed))
    ) or (
        to_node in done
        and not to_node.cancelled()
        and isinstance(to_node.exception(), ConnectionClosed)
    )
    return not node_died


def _graceful(upstream: ClientConnection) -> bool:
    """The node closed on purpose (shutdown 1001 or normal 1000) rather than dying."""
    return upstream.close_code in (CLOSE_NORMAL,)


async def relay_websocket(
    router: Router, caller: Caller, scope: Scope, receive: Receive, send: Send
) -> None:
    """Run one admitted WebSocket session to its end; the caller releases admission."""
    if (await receive())["type"] != "websocket.connect":
        return
    query = scope.get("query_string", b"").decode("latin-1")
    if router.node_headers:  # the node key goes instead; the client's stays here
        query = "&".join(p for p in query.split("&") if p and not p.startswith("api_key="))
    path = scope["path"] + (f"?{query}" if query else "")
    # The router's node key, else the client's own key header, as HTTP requests carry it.
    headers = router.node_headers or {
        k.decode("latin-1"): v.decode("latin-1")
        for k, v in scope["headers"]
        if k in (b"authorization", b"x-api-key")
    }
    tried: set[str] = set()
    placed = await _connect(router, caller, path, tried, headers)
    if placed is None:
        await send({"type": "websocket.close", "code": CLOSE_TRY_AGAIN_LATER})
        return
    await send({"type": "websocket.accept"})
    router.metrics.requests.labels(placed[0].region, "websocket", "1xx").inc()
    while placed is not None:
        node, upstream = placed
        node.inflight += 1
        router.track_relay(node.name, upstream)
        try:
            client_left = await _pump(receive, send, upstream)
        finally:
            node.inflight -= 1
            router.untrack_relay(node.name, upstream)
        if client_left:
            return
        if router.moved_off(upstream):  # its node is draining: the client reconnects elsewhere
            await send({"type": "websocket.close", "code": 1012})
            return
        if _graceful(upstream):
            await send({"type": "websocket.close", "code": upstream.close_code or CLOSE_NORMAL})
            return
        router.record(node, False, 0.0)
        tried = {node.name}
        placed = await _connect(router, caller, path, tried, headers)
        if placed is not None:
            router.metrics.failovers.inc()
            moved = UnavailableError(
                "the node serving this session failed; requests in flight were "
                "lost and subscriptions must be made again",
                moved_from=node.name,
                moved_to=placed[0].name,
            )
            notice = orjson.dumps(error_frame(None, moved)).decode()
            await send({"type": "websocket.send", "text": notice})
    await send({"type": "websocket.close", "code": CLOSE_TRY_AGAIN_LATER})
