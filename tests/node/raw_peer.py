"""A blocking raw-socket peer: a WebSocket or SSE client that reads only when told to.

Library clients read in the background; a test of slow consumers needs one
that does not read at all, with a small receive buffer so the kernel does
not absorb what the node sends.
"""

from __future__ import annotations

import base64
import os
import socket
import struct
import time

import orjson

from ruvstream.bench.streams import masked_frame

RCVBUF = 16 * 1024


def connect(port: int, rcvbuf: int = RCVBUF) -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
    sock.settimeout(30)
    sock.connect(("127.0.0.1", port))
    return sock


def read_head(sock: socket.socket) -> bytes:
    head = b""
    while b"\r\n\r\n" not in head:
        chunk = sock.recv(1)
        if not chunk:
            raise ConnectionError(f"closed during the head: {head!r}")
        head += chunk
    return head


def websocket(port: int) -> socket.socket:
    """An upgraded /v1/ws socket (the 101 head read, nothing more)."""
    sock = connect(port)
    key = base64.b64encode(os.urandom(16)).decode()
    sock.sendall(
        (
            f"GET /v1/ws HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUpgrade: websocket\r\n"
            f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
            "Sec-WebSocket-Version: 13\r\n\r\n"
        ).encode()
    )
    head = read_head(sock)
    assert head.startswith(b"HTTP/1.1 101"), head
    return sock


def send_json(sock: socket.socket, frame: dict[str, object]) -> None:
    sock.sendall(masked_frame(orjson.dumps(frame)))


def _exactly(sock: socket.socket, n: int) -> bytes:
    data = b""
    while len(data) < n:
        chunk = sock.recv(n - len(data))
        if not chunk:
            raise ConnectionError("closed mid-frame")
        data += chunk
    return data


def read_frame(sock: socket.socket) -> tuple[int, bytes]:
    """One server frame (unmasked): (opcode, payload)."""
    first, second = _exactly(sock, 2)
    length = second & 0x7F
    if length == 126:
        (length,) = struct.unpack("!H", _exactly(sock, 2))
    elif length == 127:
        (length,) = struct.unpack("!Q", _exactly(sock, 8))
    return first & 0x0F, _exactly(sock, length)


def frames_until_close(sock: socket.socket, deadline_s: float = 60.0) -> tuple[list[bytes], int]:
    """Text frames read until the close frame, and the close code."""
    texts: list[bytes] = []
    deadline = time.monotonic() + deadline_s
    while time.monotonic() < deadline:
        opcode, payload = read_frame(sock)
        if opcode == 0x1:
            texts.append(payload)
        elif opcode == 0x8:
            return texts, struct.unpack("!H", payload[:2])[0]
    raise TimeoutError("no close frame")


def rss_bytes(pid: int) -> int:
    with open(f"/proc/{pid}/status") as status:
        lines = status.read().splitlines()
    for line in lines:
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise RuntimeError("no VmRSS")
