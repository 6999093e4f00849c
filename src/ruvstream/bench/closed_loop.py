"""Closed-loop clients as bare asyncio protocols: a request, its answer, the next.

The node benchmark's load: ``clients`` connections, each sending one
pre-encoded request (keep-alive HTTP/1.1, or a pre-masked WebSocket frame)
and the next as soon as the answer is in, for ``seconds``. Callbacks instead
of stream reads keep the generator's own CPU per request small (about 13 us),
which matters because it shares the node's cores.
"""

from __future__ import annotations

import asyncio
import base64
import itertools
import os
import struct
import time
from dataclasses import dataclass, field
from typing import cast

import numpy as np
import orjson

from ruvstream.bench.glove import recall_at_k
from ruvstream.bench.streams import masked_frame

__all__ = ["K", "Run", "encoded_requests", "served"]

K = 10


@dataclass
class Run:
    """What one protocol measured in one round: latencies, each row's hits, errors."""

    latencies: list[float] = field(default_factory=list)
    answers: dict[int, list[int]] = field(default_factory=dict)
    errors: int = 0
    seconds: float = 0.0

    def summary(self, truth: np.ndarray) -> dict[str, float]:
        ordered = sorted(self.latencies)
        rows = sorted(self.answers)
        found = [self.answers[r] for r in rows]
        return {
            "qps": len(self.latencies) / self.seconds,
            "p50_ms": 1000 * ordered[len(ordered) // 2],
            "p99_ms": 1000 * ordered[int(len(ordered) * 0.99)],
            "recall": recall_at_k(found, truth[rows], K),
            "errors": self.errors,
        }


class _ClosedLoopClient(asyncio.Protocol):
    """One closed-loop client as a bare protocol: a request, its answer, the next.

    Callbacks instead of stream reads keep the generator's own CPU per request
    small, which matters because it shares the node's cores.
    """

    transport: asyncio.Transport  # set once connected

    def __init__(
        self, requests: list[bytes], order: itertools.count[int], run: Run, deadline: float
    ) -> None:
        self.requests = requests
        self.order = order
        self.run = run
        self.deadline = deadline
        self.buffer = bytearray()
        self.row = 0
        self.started = 0.0
        self.closed: asyncio.Future[None] = asyncio.get_running_loop().create_future()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)  # uvloop's is not a subclass
        self.send_next()

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.closed.done():
            self.closed.set_result(None)

    def send_next(self) -> None:
        if time.perf_counter() >= self.deadline:
            self.transport.close()
            return
        self.row = next(self.order) % len(self.requests)
        self.started = time.perf_counter()
        self.transport.write(self.requests[self.row])

    def answered(self, ok: bool, payload: bytes) -> None:
        self.run.latencies.append(time.perf_counter() - self.started)
        if not ok:
            self.run.errors += 1
        elif self.row not in self.run.answers:  # recall needs each row's hits once
            self.run.answers[self.row] = [int(h["id"]) for h in orjson.loads(payload)["hits"]]
        self.send_next()


class _HttpClient(_ClosedLoopClient):
    """Keep-alive HTTP/1.1 with pre-encoded requests."""

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        end = self.buffer.find(b"\r\n\r\n")
        if end < 0:
            return
        head = bytes(self.buffer[:end]).lower()
        size = end + 4 + int(head.split(b"content-length: ")[1].split(b"\r\n")[0])
        if len(self.buffer) < size:
            return
        payload = bytes(self.buffer[end + 4 : size])
        del self.buffer[:size]
        self.answered(head.startswith(b"http/1.1 200"), payload)


class _WebSocketClient(_ClosedLoopClient):
    """RFC 6455 with pre-masked frames; answers the server's heartbeat pings."""

    upgraded = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)  # uvloop's is not a subclass
        self.transport.write(
            b"GET /v1/ws HTTP/1.1\r\nHost: bench\r\nUpgrade: websocket\r\n"
            b"Connection: Upgrade\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: "
            + base64.b64encode(os.urandom(16))
            + b"\r\n\r\n"
        )

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        if not self.upgraded:
            end = self.buffer.find(b"\r\n\r\n")
            if end < 0:
                return
            if not self.buffer.startswith(b"HTTP/1.1 101"):
                refused = RuntimeError(f"WebSocket upgrade refused: {bytes(self.buffer[:80])!r}")
                self.closed.set_exception(refused)
                self.transport.close()
                return
            del self.buffer[: end + 4]
            self.upgraded = True
            self.send_next()
        while (frame := _take_frame(self.buffer)) is not None:
            opcode, payload = frame
            if opcode == 0x9:
                self.transport.write(masked_frame(payload, opcode=0xA))
            elif opcode == 0x1:
                self.answered(b'"type":"result"' in payload, payload)


def _take_frame(buffer: bytearray) -> tuple[int, bytes] | None:
    """Cut one whole server frame (unmasked) off the front of ``buffer``."""
    if len(buffer) < 2:
        return None
    size, start = buffer[1] & 0x7F, 2
    if size == 126:
        if len(buffer) < 4:
            return None
        (size,), start = struct.unpack_from("!H", buffer, 2), 4
    elif size == 127:
        if len(buffer) < 10:
            return None
        (size,), start = struct.unpack_from("!Q", buffer, 2), 10
    if len(buffer) < start + size:
        return None
    frame = buffer[0] & 0x0F, bytes(buffer[start : start + size])
    del buffer[: start + size]
    return frame


async def served(
    port: int, protocol: str, requests: list[bytes], clients: int, seconds: float
) -> Run:
    run = Run()
    order = itertools.count()
    loop = asyncio.get_running_loop()
    kind = _HttpClient if protocol == "http" else _WebSocketClient
    started = time.perf_counter()
    deadline = started + seconds

    def client() -> _ClosedLoopClient:
        return kind(requests, order, run, deadline)

    connections = [await loop.create_connection(client, "127.0.0.1", port) for _ in range(clients)]
    await asyncio.wait_for(asyncio.gather(*(c.closed for _, c in connections)), seconds + 30)
    run.seconds = time.perf_counter() - started
    return run


def encoded_requests(queries: np.ndarray) -> dict[str, list[bytes]]:
    http = []
    for q in queries:
        body = orjson.dumps({"vector": q.tolist(), "k": K})
        http.append(
            b"POST /v1/collections/glove/search HTTP/1.1\r\nHost: bench\r\n"
            b"Content-Type: application/json\r\nContent-Length: "
            + str(len(body)).encode()
            + b"\r\n\r\n"
            + body
        )
    websocket = [
        masked_frame(
            orjson.dumps(
                {"id": "b", "op": "search", "collection": "glove", "vector": q.tolist(), "k": K}
            )
        )
        for q in queries
    ]
    return {"http": http, "websocket": websocket}
