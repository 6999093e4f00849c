"""Many concurrent long-lived streams from one process, cheaply.

A held stream is a real WebSocket on the node's ``/v1/ws``: an HTTP upgrade
over a raw asyncio connection, then a small frame reader that answers the
server's pings. No per-socket library state, so tens of thousands fit in one
process. Source addresses rotate over 127.0.0.0/8 (``127.0.0.2`` ... ) so
each source address gets its own ephemeral-port range, and the file limit
is raised to its hard maximum before opening.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import os
import resource
import struct

import numpy as np

__all__ = ["StreamPool", "masked_frame", "raise_file_limit", "source_address"]

_OPEN_CONCURRENCY = 256
_STREAMS_PER_ADDRESS = 20_000


def raise_file_limit() -> int:
    """Raise RLIMIT_NOFILE to its hard limit; returns the new soft limit."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


def source_address(n: int, per_address: int = _STREAMS_PER_ADDRESS) -> str:
    """127.0.0.2, 127.0.0.3, ...: the n-th stream's source address."""
    index = n // per_address
    return f"127.0.{index // 250}.{2 + index % 250}"


def masked_frame(payload: bytes, opcode: int = 0x1) -> bytes:
    """A client-to-server WebSocket frame (RFC 6455 5.2), masked with a fresh key."""
    key = os.urandom(4)
    mask = np.frombuffer((key * (len(payload) // 4 + 1))[: len(payload)], dtype=np.uint8)
    body = (np.frombuffer(payload, dtype=np.uint8) ^ mask).tobytes()
    size = len(payload)
    if size < 126:
        head = bytes([0x80 | opcode, 0x80 | size])
    elif size < 1 << 16:
        head = bytes([0x80 | opcode, 0x80 | 126]) + struct.pack("!H", size)
    else:
        head = bytes([0x80 | opcode, 0x80 | 127]) + struct.pack("!Q", size)
    return head + key + body


class _Stream:
    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer
        self.task = asyncio.create_task(self._serve())

    async def _serve(self) -> None:
        """Read frames until close; answer pings (opcode 9) with pongs."""
        with contextlib.suppress(OSError, asyncio.IncompleteReadError):
            while True:
                head = await self.reader.readexactly(2)
                opcode, length = head[0] & 0x0F, head[1] & 0x7F
                if length == 126:
                    (length,) = struct.unpack("!H", await self.reader.readexactly(2))
                elif length == 127:
                    (length,) = struct.unpack("!Q", await self.reader.readexactly(8))
                payload = await self.reader.readexactly(length)
                if opcode == 0x9:
                    self.writer.write(masked_frame(payload[:125], opcode=0xA))
                elif opcode == 0x8:
                    return

    async def close(self) -> None:
        with contextlib.suppress(OSError, RuntimeError):
            self.writer.write(masked_frame(struct.pack("!H", 1000), opcode=0x8))
            self.writer.close()
        self.task.cancel()
        with contextlib.suppress(asyncio.CancelledError, OSError):
            await self.task


async def _open(host: str, port: int, source: str) -> _Stream:
    reader, writer = await asyncio.open_connection(host, port, local_addr=(source, 0))
    key = base64.b64encode(os.urandom(16)).decode()
    writer.write(
        (
            f"GET /v1/ws HTTP/1.1\r\nHost: {host}:{port}\r\nUpgrade: websocket\r\n"
            f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
            "Sec-WebSocket-Version: 13\r\n\r\n"
        ).encode()
    )
    head = await reader.readuntil(b"\r\n\r\n")
    if not head.startswith(b"HTTP/1.1 101"):
        writer.close()
        raise ConnectionError(head.split(b"\r\n", 1)[0].decode(errors="replace"))
    return _Stream(reader, writer)


class StreamPool:
    """Holds ``size`` open streams; ``resize`` opens or closes the difference.

    ``failures`` counts streams that could not be opened (refused, limit,
    handshake error) by reason; a failed open is retried on the next resize.
    Streams the server closes leave the pool by themselves, so ``size`` is
    always the number of streams really open.
    """

    def __init__(self, host: str, port: int) -> None:
        self.host = host
        self.port = port
        self._streams: dict[_Stream, None] = {}  # insertion-ordered set
        self._opened = 0
        self.failures: dict[str, int] = {}
        self.peak = 0
        self._gate = asyncio.Semaphore(_OPEN_CONCURRENCY)

    @property
    def size(self) -> int:
        return len(self._streams)

    async def _open_one(self) -> None:
        async with self._gate:
            source = source_address(self._opened)
            self._opened += 1
            try:
                stream = await asyncio.wait_for(_open(self.host, self.port, source), 10.0)
            except (TimeoutError, OSError, ConnectionError) as exc:
                reason = type(exc).__name__
                self.failures[reason] = self.failures.get(reason, 0) + 1
                return
            self._streams[stream] = None
            stream.task.add_done_callback(lambda _: self._streams.pop(stream, None))
            self.peak = max(self.peak, self.size)

    async def resize(self, target: int) -> None:
        missing = target - self.size
        if missing > 0:
            await asyncio.gather(*(self._open_one() for _ in range(missing)))
        elif missing < 0:
            closing = list(self._streams)[target:]
            for stream in closing:
                self._streams.pop(stream, None)
            await asyncio.gather(*(s.close() for s in closing))

    async def aclose(self) -> None:
        await self.resize(0)
