"""A small real HTTP server with scripted faults, run on 127.0.0.1 in a thread.

Each request takes the next scripted ``Fault`` (answer an error status, sleep
first, or forward to a real node and then fail); once the script is used up
it forwards to ``upstream`` (a real node) or answers an empty search. It
logs every request it saw (monotonic time, method, path, headers).
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import httpx
import orjson
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route


@dataclass
class Fault:
    status: int = 503
    body: dict[str, Any] | None = None
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0
    forward_first: bool = False
    broken_stream: bytes | None = None


@dataclass
class Seen:
    at: float
    method: str
    path: str
    headers: dict[str, str]


@dataclass
class FaultServer:
    upstream: str | None = None
    script: list[Fault] = field(default_factory=list)
    repeat: Fault | None = None
    log: list[Seen] = field(default_factory=list)
    url: str = ""

    def next_fault(self) -> Fault | None:
        if self.script:
            return self.script.pop(0)
        return self.repeat

    async def handle(self, request: Request) -> Response:
        self.log.append(
            Seen(time.monotonic(), request.method, request.url.path, dict(request.headers))
        )
        body = await request.body()
        fault = self.next_fault()
        if fault is not None and fault.delay:
            await asyncio.sleep(fault.delay)
        if fault is not None and fault.broken_stream is not None:
            return self.break_stream(fault.broken_stream)
        if fault is not None and fault.forward_first:
            await self.forward(request, body)
        if fault is not None:
            content = orjson.dumps(fault.body) if fault.body is not None else b""
            return Response(content, fault.status, headers=fault.headers)
        if self.upstream is None:
            return Response(b'{"hits": [], "version": 0}', 200, media_type="application/json")
        return await self.forward(request, body)

    def break_stream(self, prefix: bytes) -> Response:
        """Send ``prefix`` as an event stream, then drop the connection mid-body."""

        async def body() -> AsyncIterator[bytes]:
            yield prefix
            raise ConnectionResetError("the stream breaks here")

        return StreamingResponse(body(), media_type="text/event-stream")

    async def forward(self, request: Request, body: bytes) -> Response:
        skip = {"host", "content-length", "connection"}
        headers = {k: v for k, v in request.headers.items() if k not in skip}
        async with httpx.AsyncClient(base_url=self.upstream or "", timeout=30) as http:
            answer = await http.request(
                request.method, request.url.path, content=body, headers=headers
            )
        return Response(
            answer.content, answer.status_code, media_type=answer.headers.get("content-type")
        )


@contextmanager
def fault_server(upstream: str | None = None) -> Iterator[FaultServer]:
    faults = FaultServer(upstream=upstream)
    app = Starlette(
        routes=[Route("/{path:path}", faults.handle, methods=["GET", "POST", "PUT", "DELETE"])]
    )
    config = uvicorn.Config(
        app,
        host="127.0.0.1",
        port=0,
        log_level="warning",
        lifespan="off",
        timeout_graceful_shutdown=1,
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("fault server did not start")
        time.sleep(0.01)
    port = server.servers[0].sockets[0].getsockname()[1]
    faults.url = f"http://127.0.0.1:{port}"
    try:
        yield faults
    finally:
        server.should_exit = True
        server.force_exit = True
        thread.join(timeout=10)
