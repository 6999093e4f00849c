"""The hot routes, answered in plain ASGI below admission and above Starlette.

A JSON search (``POST /v1/collections/{name}/search`` without an event-stream
``Accept``) and the ``/v1/ws`` socket are most of a node's traffic. Starlette's
exception middleware, router and request objects cost more event-loop time
per search than parsing the query does, and the loop is what a node runs out
of first, so these two skip them. They keep everything else: admission runs
before them, errors get the same answers, the same metrics are kept, and the
answers are byte for byte those of the Starlette routes (which still serve
every other request, and SSE searches).

Most plain JSON searches never get here: the node's HTTP protocol
(``api/http_protocol.py``) answers them before any ASGI task exists. This
lane serves the searches it passes on (chunked or large bodies, and errors,
which it sends back through ASGI to be answered here).
"""

from __future__ import annotations

import re

import orjson
from starlette.requests import Request
from starlette.types import ASGIApp, Receive, Scope, Send
from starlette.websockets import WebSocket

from ruvstream.api.codec import parse_json, parse_search, search_answer
from ruvstream.api.rest import counted_error_response, read_body
from ruvstream.api.state import ServingState
from ruvstream.api.websocket import websocket_endpoint

__all__ = ["FastLane"]

_SEARCH = re.compile(r"/v1/collections/([^/]+)/search")
_JSON_HEADERS = [(b"content-type", b"application/json")]


class _RouteName:
    """What admission's latency histogram labels a fast-lane request with."""

    path = "/v1/collections/{name}/search"


class FastLane:
    def __init__(self, app: ASGIApp, state: ServingState) -> None:
        self.app = app
        self.state = state

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = scope["type"]
        if kind == "http" and scope["method"] == "POST":
            match = _SEARCH.fullmatch(scope["path"])
            if match is not None and not _wants_event_stream(scope):
                scope["route"] = _RouteName
                await self._search(match.group(1), scope, receive, send)
                return
        elif kind == "websocket" and scope["path"] == "/v1/ws":
            await websocket_endpoint(WebSocket(scope, receive, send))
            return
        await self.app(scope, receive, send)

    async def _search(self, name: str, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            node = self.state.require_node()
            collection = node.collection(name)
            body = await read_body(Request(scope, receive))
            request = parse_search(parse_json(body), collection.spec)
            hits = await node.search(name, request)
            payload = orjson.dumps(
                search_answer(hits, collection.change_count), option=orjson.OPT_SERIALIZE_NUMPY
            )
        except Exception as exc:
            await counted_error_response(self.state, exc)(scope, receive, send)
            return
        headers = [*_JSON_HEADERS, (b"content-length", str(len(payload)).encode())]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": payload})


def _wants_event_stream(scope: Scope) -> bool:
    for name, value in scope["headers"]:
        if name == b"accept" and b"text/event-stream" in value:
            return True
    return False
