"""The WebSocket frame fast path, held to the ASGI way it stands in for.

The same frames go to a node on its fast path and to one under ``--http
standard`` (every frame through uvicorn's queue and the session's read
loop); the replies must be the same bytes. The frame-path counter shows
which way each node took. Raw sockets, so the bytes are the server's own.
"""

from __future__ import annotations

import re
import socket
import struct
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest

from ruvstream.bench.streams import masked_frame
from ruvstream.testing import NodeProcess, running_node
from tests.node.raw_peer import connect, read_frame, send_json, websocket
from tests.node.test_auth import create_key

RECORDS = [
    {"id": f"r{i}", "vector": [1.0, i / 10, (i % 3) / 3, 0.5], "metadata": {"n": i, "odd": i % 2}}
    for i in range(30)
]

FRAMES: list[dict[str, Any]] = [
    {"id": 1, "op": "search", "collection": "c", "vector": [1, 0.2, 0.1, 0.5], "k": 5},
    {"id": "two", "op": "search", "collection": "c", "vector": [0.3, 1, 0, 0], "k": 3},
    {"id": 3, "op": "search", "collection": "c", "vector": [1, 1, 1, 1], "filter": {"odd": 1}},
    {"id": 4, "op": "search", "collection": "c", "vector": [1.0]},
    {"id": 5, "op": "search", "collection": "c", "vector": [1, 0, 0, 0], "k": 0},
    {"id": 6, "op": "search", "collection": "nope", "vector": [1, 0, 0, 0]},
    {"id": 7, "op": "search", "collection": "c", "vector": [1, 0, 0, 0], "filter": {"$x": 1}},
    {"id": 8, "op": "search", "vector": [1, 0, 0, 0]},
    {"id": 9, "op": "explode"},
    {"id": 10, "op": "ping"},
    {"id": 11, "op": "upsert", "collection": "c", "records": [{"id": 5, "vector": [1, 0, 0, 0]}]},
    {"id": 12, "op": "unsubscribe", "subscription": "none"},
]
BAD_FRAMES = [b"{not json", b"[1, 2]", b"null", b""]


def _seeded(node: NodeProcess, headers: dict[str, str] | None = None) -> NodeProcess:
    with httpx.Client(base_url=node.url, headers=headers, timeout=30) as http:
        spec = {"dim": 4, "metric": "cosine", "index": "exact"}
        assert http.put("/v1/collections/c", json=spec).status_code == 201
        assert http.post("/v1/collections/c/records", json={"records": RECORDS}).is_success
    return node


@pytest.fixture(scope="module")
def fast(tmp_path_factory: pytest.TempPathFactory) -> Iterator[NodeProcess]:
    with running_node(tmp_path_factory.mktemp("fast") / "node") as node:
        yield _seeded(node)


@pytest.fixture(scope="module")
def standard(tmp_path_factory: pytest.TempPathFactory) -> Iterator[NodeProcess]:
    work = tmp_path_factory.mktemp("standard") / "node"
    with running_node(work, args=("--http", "standard")) as node:
        yield _seeded(node)


def frame_paths(node: NodeProcess, headers: dict[str, str] | None = None) -> dict[str, float]:
    text = httpx.get(f"{node.url}/metrics", headers=headers, timeout=30).text
    found = re.findall(r'ruvstream_ws_frame_path_total\{path="(\w+)"\} (\S+)', text)
    return {path: float(value) for path, value in found}


def _exchange(sock: socket.socket, payloads: list[bytes]) -> list[bytes]:
    """Each frame and its one reply, in turn: the replies' exact bytes."""
    replies = []
    for payload in payloads:
        sock.sendall(masked_frame(payload))
        opcode, reply = read_frame(sock)
        assert opcode == 0x1, (opcode, reply)
        replies.append(reply)
    return replies


def _replies(node: NodeProcess, payloads: list[bytes]) -> list[bytes]:
    sock = websocket(node.port)
    try:
        return _exchange(sock, payloads)
    finally:
        sock.close()


def test_replies_are_the_asgi_ways_bytes(fast: NodeProcess, standard: NodeProcess) -> None:
    payloads = [orjson.dumps(f) for f in FRAMES] + BAD_FRAMES
    before_fast, before_standard = frame_paths(fast), frame_paths(standard)
    quick, usual = _replies(fast, payloads), _replies(standard, payloads)
    assert quick == usual
    replies = [orjson.loads(r) for r in quick]
    assert [r["type"] for r in replies[:3]] == ["result"] * 3
    assert len(replies[0]["hits"]) == 5 and len(replies[1]["hits"]) == 3
    assert all(h["metadata"]["odd"] == 1 for h in replies[2]["hits"])
    assert [r["error"]["code"] for r in replies[3:9]] == [
        "dimension_mismatch",
        "invalid_parameter",
        "collection_not_found",
        "invalid_filter",
        "invalid_parameter",
        "unknown_op",
    ]
    assert replies[9] == {"id": 10, "type": "pong"}
    assert [r["error"]["code"] for r in replies[-len(BAD_FRAMES) :]] == ["invalid_json"] * 4
    assert all(r["id"] is None for r in replies[-len(BAD_FRAMES) :])
    after_fast, after_standard = frame_paths(fast), frame_paths(standard)
    # Frames that parse took the fast way on one node and none did on the other.
    assert after_fast["fast"] - before_fast["fast"] == len(FRAMES)
    assert after_fast["standard"] - before_fast["standard"] == len(BAD_FRAMES)
    assert after_standard["fast"] == 0
    assert after_standard["standard"] - before_standard["standard"] == len(payloads)


def test_binary_frames_take_the_fast_path_too(fast: NodeProcess) -> None:
    sock = websocket(fast.port)
    try:
        frame = {"id": "b", "op": "search", "collection": "c", "vector": [1, 0, 0, 0], "k": 2}
        sock.sendall(masked_frame(orjson.dumps(frame), opcode=0x2))
        opcode, reply = read_frame(sock)
    finally:
        sock.close()
    assert opcode == 0x1
    answer = orjson.loads(reply)
    assert answer["id"] == "b" and answer["type"] == "result" and len(answer["hits"]) == 2


def _close_code(node: NodeProcess, payload: bytes) -> int:
    sock = websocket(node.port)
    try:
        sock.sendall(masked_frame(payload))
        opcode, body = read_frame(sock)
        assert opcode == 0x8, (opcode, body)
        code: int = struct.unpack("!H", body[:2])[0]
        return code
    finally:
        sock.close()


def test_a_text_frame_that_is_not_utf8_closes_with_1007_either_way(
    fast: NodeProcess, standard: NodeProcess
) -> None:
    bad = b'{"id": 1, "op": "ping", "x": "\xff"}'
    assert _close_code(fast, bad) == _close_code(standard, bad) == 1007


def test_many_searches_in_one_write_each_get_their_answer(fast: NodeProcess) -> None:
    sock = websocket(fast.port)
    try:
        frames = [
            {"id": i, "op": "search", "collection": "c", "vector": [1, i / 40, 0, 0], "k": 1}
            for i in range(40)
        ]
        sock.sendall(b"".join(masked_frame(orjson.dumps(f)) for f in frames))
        replies = [orjson.loads(read_frame(sock)[1]) for _ in frames]
    finally:
        sock.close()
    assert sorted(r["id"] for r in replies) == list(range(40))
    assert all(r["type"] == "result" and len(r["hits"]) == 1 for r in replies)


@pytest.fixture(scope="module")
def keyed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[NodeProcess, str, str]]:
    work = tmp_path_factory.mktemp("keyed")
    path: Path = work / "keys.json"
    admin = create_key(path, "--scopes", "admin")
    reader = create_key(path, "--scopes", "read", "--collections", "c")
    with running_node(work / "node", args=("--api-keys", str(path))) as node:
        yield _seeded(node, {"Authorization": f"Bearer {admin}"}), admin, reader


def _keyed_socket(node: NodeProcess, key: str) -> socket.socket:
    sock = connect(node.port)
    sock.sendall(
        (
            f"GET /v1/ws?api_key={key} HTTP/1.1\r\nHost: t\r\nUpgrade: websocket\r\n"
            "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
            "Sec-WebSocket-Version: 13\r\n\r\n"
        ).encode()
    )
    head = b""
    while b"\r\n\r\n" not in head:
        head += sock.recv(1)
    assert head.startswith(b"HTTP/1.1 101"), head
    return sock


def test_the_fast_path_refuses_what_the_key_does_not_cover(
    keyed: tuple[NodeProcess, str, str],
) -> None:
    node, admin, reader = keyed
    metrics_key = {"Authorization": f"Bearer {admin}"}
    before = frame_paths(node, metrics_key)
    sock = _keyed_socket(node, reader)
    try:
        frames = [
            {"id": 1, "op": "search", "collection": "c", "vector": [1, 0, 0, 0], "k": 1},
            {"id": 2, "op": "search", "collection": "other", "vector": [1, 0, 0, 0]},
            {"id": 3, "op": "upsert", "collection": "c", "records": []},
            {"id": 4, "op": "ping"},
        ]
        for frame in frames:
            send_json(sock, frame)
        replies = {r["id"]: r for r in (orjson.loads(read_frame(sock)[1]) for _ in frames)}
    finally:
        sock.close()
    assert replies[1]["type"] == "result" and replies[1]["hits"][0]["id"] == "r0"
    assert replies[2]["error"]["code"] == "forbidden"
    assert replies[3]["error"]["code"] == "forbidden"
    assert replies[4] == {"id": 4, "type": "pong"}
    after = frame_paths(node, metrics_key)
    assert after["fast"] - before["fast"] == len(frames)
