"""Slow senders: a head or body that trickles in is cut, and waiting connections count.

Raw sockets against a real node process. A slowloris client (a head sent a
byte a second) gets 408 ``client_timeout`` and a closed socket once the
head deadline passes, while a bystander's /health keeps answering; a body
that stalls gets the same; connections that have not sent a head count
against ``--max-connections``.
"""

from __future__ import annotations

import socket
import time
from pathlib import Path

import httpx
import orjson
import pytest

from ruvstream.testing import NodeProcess, running_node
from tests.node import raw_peer


def _answer(sock: socket.socket) -> tuple[bytes, bytes]:
    """Status line and body of the one answer, read until the node closes the socket."""
    sock.settimeout(30)
    data = b""
    while chunk := sock.recv(65536):
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    return head.split(b"\r\n", 1)[0], body


def _no_app_errors(node: NodeProcess) -> None:
    assert node.log_path is not None
    assert "Exception in ASGI application" not in node.log_path.read_text()


@pytest.mark.parametrize("http", ["auto", "standard"])
def test_a_head_sent_a_byte_a_second_is_cut_while_health_answers(tmp_path: Path, http: str) -> None:
    args = ["--header-timeout", "3", "--http", http]
    with running_node(tmp_path / "node", args=args) as node:
        sock = raw_peer.connect(node.port)
        request = b"GET /v1/collections HTTP/1.1\r\nHost: t\r\nX-Slow: " + b"a" * 100
        started = time.monotonic()
        cut = False
        with httpx.Client(base_url=node.url, timeout=10) as bystander:
            for byte in request:
                try:
                    sock.sendall(bytes([byte]))
                except OSError:
                    cut = True
                    break
                assert bystander.get("/health").status_code == 200
                time.sleep(1.0)
                sock.setblocking(False)
                try:
                    if sock.recv(1, socket.MSG_PEEK):
                        cut = True
                        break
                except BlockingIOError:
                    pass
                finally:
                    sock.setblocking(True)
                if time.monotonic() - started > 60:
                    break
        assert cut, "the slow head was never cut"
        status, body = _answer(sock)
        assert status.startswith(b"HTTP/1.1 408"), status
        assert orjson.loads(body)["error"]["code"] == "client_timeout"
        sock.close()
        _no_app_errors(node)


def test_a_stalled_body_gets_408_and_the_node_loses_nothing(tmp_path: Path) -> None:
    with running_node(tmp_path / "node", args=["--body-timeout", "2"]) as node:
        with httpx.Client(base_url=node.url, timeout=30) as http:
            assert http.put("/v1/collections/c", json={"dim": 2}).status_code == 201
            for path in ("/v1/collections/c/records", "/v1/collections/c/search"):
                sock = raw_peer.connect(node.port)
                sock.sendall(
                    f"POST {path} HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\n"
                    'Content-Length: 1000\r\n\r\n{"records": ['.encode()
                )
                status, body = _answer(sock)
                assert status.startswith(b"HTTP/1.1 408"), (path, status)
                assert orjson.loads(body)["error"]["code"] == "client_timeout"
                sock.close()
            written = http.post(
                "/v1/collections/c/records", json={"records": [{"id": "a", "vector": [1, 0]}]}
            )
            assert written.status_code == 200, written.text
            assert http.get("/v1/collections/c").json()["count"] == 1
        _no_app_errors(node)


def test_connections_without_a_head_count_against_the_connection_limit(tmp_path: Path) -> None:
    args = ["--max-connections", "4", "--header-timeout", "60"]
    with (
        running_node(tmp_path / "node", args=args) as node,
        httpx.Client(base_url=node.url, timeout=30) as http,
    ):
        assert http.get("/v1/collections").status_code == 200
        held = [raw_peer.connect(node.port) for _ in range(4)]
        # The node sees them once accepted: poll until it refuses new work.
        deadline = time.monotonic() + 30
        while http.get("/v1/collections").status_code != 503:
            assert time.monotonic() < deadline, "half-open connections were not counted"
            time.sleep(0.1)
        refused = http.get("/v1/collections")
        assert refused.status_code == 503
        assert refused.json()["error"]["code"] == "unavailable"
        assert http.get("/health").status_code == 200, "health is always open"
        for sock in held:
            sock.close()
        while http.get("/v1/collections").status_code != 200:
            assert time.monotonic() < deadline + 30, "closed connections stayed counted"
            time.sleep(0.1)
