"""The node's own HTTP/1.1 handling of searches, over raw sockets.

A plain JSON search is answered without an ASGI task; these tests hold it to
the bytes, the ordering and the bookkeeping of the ASGI route it stands in for,
and check by the search-path counter that the fast path really answered.
"""

from __future__ import annotations

import re
import socket
from collections.abc import Iterator

import httpx
import numpy as np
import orjson
import pytest

from ruvstream.testing import NodeProcess, running_node


def _connect(node: NodeProcess) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", node.port), timeout=30)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return sock


def _search_request(body: bytes, extra: bytes = b"") -> bytes:
    return (
        b"POST /v1/collections/glove/search HTTP/1.1\r\nHost: t\r\n"
        b"Content-Type: application/json\r\nContent-Length: %d\r\n%s\r\n%s"
        % (len(body), extra, body)
    )


def _receive(sock: socket.socket, buffer: bytearray) -> None:
    chunk = sock.recv(65536)
    assert chunk, "the server closed the connection mid-response"
    buffer += chunk


def _read_head(sock: socket.socket, buffer: bytearray) -> int:
    """Read until a whole head is buffered; where it ends."""
    while b"\r\n\r\n" not in buffer:
        _receive(sock, buffer)
    return buffer.index(b"\r\n\r\n")


def _read_response(
    sock: socket.socket, buffer: bytearray
) -> tuple[bytes, dict[bytes, bytes], bytes]:
    """One response off the socket: status line, headers (lowercase names), body."""
    end = _read_head(sock, buffer)
    status, *lines = bytes(buffer[:end]).split(b"\r\n")
    headers = {k.lower(): v for k, _, v in (line.partition(b": ") for line in lines)}
    size = end + 4 + int(headers[b"content-length"])
    while len(buffer) < size:
        _receive(sock, buffer)
    body = bytes(buffer[end + 4 : size])
    del buffer[:size]
    return status, headers, body


def search_paths(node: NodeProcess) -> dict[str, float]:
    """``ruvstream_http_search_path_total`` by path, read from the node's /metrics."""
    text = httpx.get(f"{node.url}/metrics", timeout=30).text
    found = re.findall(r'ruvstream_http_search_path_total\{path="(\w+)"\} (\S+)', text)
    return {path: float(value) for path, value in found}


def _chunked_search_request(body: bytes) -> bytes:
    """The same search with a chunked body: the node takes uvicorn's usual ASGI way."""
    return (
        b"POST /v1/collections/glove/search HTTP/1.1\r\nHost: t\r\n"
        b"Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
        b"%x\r\n%s\r\n0\r\n\r\n" % (len(body), body)
    )


def test_answer_matches_the_asgi_route_byte_for_byte(
    glove_node: NodeProcess, glove: tuple[np.ndarray, np.ndarray]
) -> None:
    _, queries = glove
    body = orjson.dumps({"vector": queries[0].tolist(), "k": 10})
    with _connect(glove_node) as sock:
        buffer = bytearray()
        before = search_paths(glove_node)
        sock.sendall(_search_request(body))
        fast = _read_response(sock, buffer)
        between = search_paths(glove_node)
        sock.sendall(_chunked_search_request(body))
        routed = _read_response(sock, buffer)
        after = search_paths(glove_node)
    # The default (--http auto) took the fast path for the plain search only.
    assert between["fast"] - before["fast"] == 1 and between["standard"] == before["standard"]
    assert after["standard"] - between["standard"] == 1 and after["fast"] == between["fast"]
    assert fast[0] == routed[0] == b"HTTP/1.1 200 OK"
    assert fast[2] == routed[2]
    assert len(orjson.loads(fast[2])["hits"]) == 10
    same = {name: value for name, value in fast[1].items() if name != b"date"}
    assert same == {name: value for name, value in routed[1].items() if name != b"date"}


def test_pipelined_requests_are_answered_in_order(
    glove_node: NodeProcess, glove: tuple[np.ndarray, np.ndarray]
) -> None:
    """Searches, a bad search and a plain GET sent in one write come back in order."""
    _, queries = glove
    bodies = [orjson.dumps({"vector": queries[i].tolist(), "k": 3}) for i in range(4)]
    wire = b"".join(
        [
            _search_request(bodies[0]),
            _search_request(b'{"vector": [1, 2], "k": 3}'),  # wrong dimension
            _search_request(bodies[1]),
            b"GET /health HTTP/1.1\r\nHost: t\r\n\r\n",
            _search_request(bodies[2]),
            _search_request(bodies[3]),
        ]
    )
    with httpx.Client(base_url=glove_node.url) as http:
        expected = [
            http.post("/v1/collections/glove/search", content=b).json()["hits"] for b in bodies
        ]
    with _connect(glove_node) as sock:
        sock.sendall(wire)
        buffer = bytearray()
        answers = [_read_response(sock, buffer) for _ in range(6)]
    statuses = [status.split(b" ")[1] for status, _, _ in answers]
    assert statuses == [b"200", b"400", b"200", b"200", b"200", b"200"]
    assert orjson.loads(answers[1][2])["error"]["code"] == "dimension_mismatch"
    assert "status" in orjson.loads(answers[3][2])
    found = [orjson.loads(answers[i][2])["hits"] for i in (0, 2, 4, 5)]
    assert [[h["id"] for h in hits] for hits in found] == [
        [h["id"] for h in hits] for hits in expected
    ]


def test_connection_close_is_honoured(
    glove_node: NodeProcess, glove: tuple[np.ndarray, np.ndarray]
) -> None:
    _, queries = glove
    body = orjson.dumps({"vector": queries[5].tolist(), "k": 2})
    with _connect(glove_node) as sock:
        sock.sendall(_search_request(body, b"Connection: close\r\n"))
        buffer = bytearray()
        status, headers, _ = _read_response(sock, buffer)
        assert status == b"HTTP/1.1 200 OK"
        assert headers[b"connection"] == b"close"
        assert sock.recv(1) == b""  # and the server hung up


def test_searches_are_counted_as_the_route_counts_them(
    glove_node: NodeProcess, glove: tuple[np.ndarray, np.ndarray]
) -> None:
    _, queries = glove

    def searches_ok(metrics: str) -> float:
        pattern = (
            r'ruvstream_http_requests_total\{[^}]*route="/v1/collections/\{name\}/search"'
            r'[^}]*status="200"[^}]*\} (\S+)'
        )
        return sum(float(v) for v in re.findall(pattern, metrics))

    with httpx.Client(base_url=glove_node.url) as http:
        before = searches_ok(http.get("/metrics").text)
        for row in range(7):
            body = {"vector": queries[row].tolist(), "k": 1, "filter": {"bucket": row}}
            hits = http.post("/v1/collections/glove/search", json=body).json()["hits"]
            assert all(h["metadata"]["bucket"] == row for h in hits)
        after = searches_ok(http.get("/metrics").text)
    assert after - before == 7


def test_large_and_expect_continue_bodies_take_the_asgi_way(
    glove_node: NodeProcess, glove: tuple[np.ndarray, np.ndarray]
) -> None:
    """Bodies the protocol leaves to uvicorn still get the same answer."""
    _, queries = glove
    body = orjson.dumps({"vector": queries[7].tolist(), "k": 4})
    padded = body[:-1] + b" " * 70_000 + b"}"  # past uvicorn's read-pause mark
    with _connect(glove_node) as sock:
        buffer = bytearray()
        sock.sendall(_search_request(body))
        plain = _read_response(sock, buffer)
        sock.sendall(_search_request(padded))
        large = _read_response(sock, buffer)
        head = _search_request(body, b"Expect: 100-continue\r\n")[: -len(body)]
        sock.sendall(head)
        end = _read_head(sock, buffer)
        assert bytes(buffer[:end]) == b"HTTP/1.1 100 Continue"
        del buffer[: end + 4]
        sock.sendall(body)
        continued = _read_response(sock, buffer)
    assert plain[0] == large[0] == continued[0] == b"HTTP/1.1 200 OK"
    assert plain[2] == large[2] == continued[2]


DIM = 8
ROWS = np.random.default_rng(7).standard_normal((300, DIM)).astype(np.float32)


@pytest.fixture(scope="module")
def paired_nodes(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, NodeProcess]]:
    """Two nodes holding the same collection "pair": one ``--http fast``, one ``standard``."""
    with (
        running_node(tmp_path_factory.mktemp("fast"), args=("--http", "fast")) as fast,
        running_node(tmp_path_factory.mktemp("standard"), args=("--http", "standard")) as standard,
    ):
        records = [
            {"id": f"r{i}", "vector": row.tolist(), "metadata": {"i": i}}
            for i, row in enumerate(ROWS)
        ]
        for node in (fast, standard):
            with httpx.Client(base_url=node.url, timeout=60) as http:
                assert http.put("/v1/collections/pair", json={"dim": DIM}).status_code == 201
                written = http.post("/v1/collections/pair/records", json={"records": records})
                assert written.status_code == 200, written.text
        yield {"fast": fast, "standard": standard}


def _pair_search(body: bytes) -> bytes:
    return _search_request(body).replace(b"/glove/", b"/pair/", 1)


@pytest.mark.parametrize("mode", ["fast", "standard"])
def test_the_search_path_counter_says_which_path_answered(
    paired_nodes: dict[str, NodeProcess], mode: str
) -> None:
    node = paired_nodes[mode]
    before = search_paths(node)
    with _connect(node) as sock:
        buffer = bytearray()
        for row in range(5):
            sock.sendall(_pair_search(orjson.dumps({"vector": ROWS[row].tolist(), "k": 3})))
            assert _read_response(sock, buffer)[0] == b"HTTP/1.1 200 OK"
    after = search_paths(node)
    served = {path: after[path] - before[path] for path in ("fast", "standard")}
    assert served == ({"fast": 5, "standard": 0} if mode == "fast" else {"fast": 0, "standard": 5})


def test_fast_and_standard_answer_byte_for_byte_alike(
    paired_nodes: dict[str, NodeProcess],
) -> None:
    bodies = [
        orjson.dumps({"vector": ROWS[3].tolist(), "k": 10}),
        orjson.dumps({"vector": ROWS[9].tolist(), "k": 4, "filter": {"i": {"$lt": 100}}}),
        b'{"vector": [1, 2], "k": 3}',  # an error: the route answers it on both
    ]
    answers: dict[str, list[tuple[bytes, dict[bytes, bytes], bytes]]] = {}
    for mode, node in paired_nodes.items():
        with _connect(node) as sock:
            buffer = bytearray()
            sock.sendall(b"".join(_pair_search(body) for body in bodies))
            answers[mode] = [_read_response(sock, buffer) for _ in bodies]
    for fast, standard in zip(answers["fast"], answers["standard"], strict=True):
        assert fast[0] == standard[0] and fast[2] == standard[2]
        assert {k: v for k, v in fast[1].items() if k != b"date"} == {
            k: v for k, v in standard[1].items() if k != b"date"
        }
    assert [a[0] for a in answers["fast"]] == [b"HTTP/1.1 200 OK"] * 2 + [
        b"HTTP/1.1 400 Bad Request"
    ]
    assert len(orjson.loads(answers["fast"][0][2])["hits"]) == 10
