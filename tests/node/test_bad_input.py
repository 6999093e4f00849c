"""Bad input against a real node: each gets its status and code, and harms nobody."""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from typing import Any

import httpx
import pytest
from websockets.sync.client import connect

from ruvstream.testing import NodeProcess, running_node

DIM = 4
LIMIT = 100_000
GOOD = [0.1, 0.2, 0.3, 0.4]


@pytest.fixture(scope="module")
def bad_node(tmp_path_factory: pytest.TempPathFactory) -> Iterator[NodeProcess]:
    """One node, collection "c" holding record "keep"; the payload limit is 100 kB."""
    args = ("--max-payload-bytes", str(LIMIT))
    with running_node(tmp_path_factory.mktemp("bad-input"), args=args) as node:
        with httpx.Client(base_url=node.url, timeout=30) as http:
            spec = {"dim": DIM, "metric": "l2"}
            assert http.put("/v1/collections/c", json=spec).status_code == 201
            body = {"records": [{"id": "keep", "vector": GOOD, "metadata": {"tag": "x"}}]}
            assert http.post("/v1/collections/c/records", json=body).status_code == 200
        yield node


@pytest.fixture
def http(bad_node: NodeProcess) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=bad_node.url, timeout=30) as client:
        yield client
        assert_unharmed(client)


def assert_unharmed(http: httpx.Client) -> None:
    """After any bad request: the node answers a good one and the record is intact."""
    record = http.get("/v1/collections/c/records/keep")
    assert record.status_code == 200, record.text
    assert record.json()["metadata"] == {"tag": "x"}
    assert record.json()["vector"] == pytest.approx(GOOD)
    hits = http.post("/v1/collections/c/search", json={"vector": GOOD, "k": 1})
    assert hits.status_code == 200 and hits.json()["hits"][0]["id"] == "keep"


def error_of(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    error: dict[str, Any] = response.json()["error"]
    assert error["code"] == code, error
    assert error["message"]
    return error


def search(http: httpx.Client, body: Any) -> httpx.Response:
    return http.post("/v1/collections/c/search", json=body)


def upsert(http: httpx.Client, body: Any) -> httpx.Response:
    return http.post("/v1/collections/c/records", json=body)


def test_wrong_dimension(http: httpx.Client) -> None:
    error = error_of(search(http, {"vector": [1.0, 2.0]}), 400, "dimension_mismatch")
    assert error["details"] == {"expected": DIM, "got": 2}
    records = {"records": [{"id": "x", "vector": [1.0] * 5}]}
    error_of(upsert(http, records), 400, "dimension_mismatch")


@pytest.mark.parametrize("raw", [b"[NaN, 0, 0, 0]", b"[1e999, 0, 0, 0]", b"[Infinity, 0, 0, 0]"])
def test_non_finite_numbers(http: httpx.Client, raw: bytes) -> None:
    """JSON cannot carry NaN: the literal is malformed JSON, 1e999 overflows to inf."""
    headers = {"content-type": "application/json"}
    body = b'{"vector": ' + raw + b', "k": 1}'
    response = http.post("/v1/collections/c/search", content=body, headers=headers)
    assert response.status_code == 400, response.text
    assert response.json()["error"]["code"] == "invalid_json"
    record = b'{"records": [{"id": "bad", "vector": ' + raw + b"}]}"
    response = http.post("/v1/collections/c/records", content=record, headers=headers)
    assert response.status_code == 400, response.text
    assert response.json()["error"]["code"] == "invalid_json"
    error_of(http.get("/v1/collections/c/records/bad"), 404, "record_not_found")


def test_float32_overflow_is_an_invalid_vector(http: httpx.Client) -> None:
    """1e39 is valid JSON and a finite double, but infinite as float32."""
    error_of(search(http, {"vector": [1e39, 0, 0, 0]}), 400, "invalid_vector")
    records = {"records": [{"id": "big", "vector": [1e39, 0, 0, 0]}]}
    error_of(upsert(http, records), 400, "invalid_vector")


@pytest.mark.parametrize("k", [0, 1001, -1, "10", 2.5, True])
def test_k_out_of_range(http: httpx.Client, k: Any) -> None:
    error = error_of(search(http, {"vector": GOOD, "k": k}), 400, "invalid_parameter")
    assert error["details"]["field"] == "k"


def test_unknown_collection(http: httpx.Client) -> None:
    error_of(
        http.post("/v1/collections/nope/search", json={"vector": GOOD}), 404, "collection_not_found"
    )
    error_of(http.get("/v1/collections/nope"), 404, "collection_not_found")
    error_of(
        http.post("/v1/collections/nope/records", json={"records": []}), 404, "collection_not_found"
    )


def test_duplicate_create(http: httpx.Client) -> None:
    error_of(http.put("/v1/collections/c", json={"dim": DIM}), 409, "collection_exists")
    assert http.get("/v1/collections/c").json()["count"] == 1


@pytest.mark.parametrize("raw", [b"{", b"not json", b'{"vector": [1,2,3,4],}', b"", b"[1, 2]"])
def test_malformed_json(http: httpx.Client, raw: bytes) -> None:
    response = http.post(
        "/v1/collections/c/search", content=raw, headers={"content-type": "application/json"}
    )
    error_of(response, 400, "invalid_json")


def test_payload_over_the_limit_with_content_length(http: httpx.Client) -> None:
    body = b'{"records": [' + b" " * (LIMIT + 10) + b"]}"
    response = http.post(
        "/v1/collections/c/records", content=body, headers={"content-type": "application/json"}
    )
    error = error_of(response, 413, "payload_too_large")
    assert error["details"]["limit"] == LIMIT


def test_payload_over_the_limit_chunked(http: httpx.Client) -> None:
    def chunks() -> Iterator[bytes]:
        yield b'{"records": ['
        for _ in range(30):
            yield b" " * 5000
        yield b"]}"

    response = http.post(
        "/v1/collections/c/records", content=chunks(), headers={"content-type": "application/json"}
    )
    assert "content-length" not in response.request.headers
    error_of(response, 413, "payload_too_large")


def test_bad_filter(http: httpx.Client) -> None:
    bad: Any
    for bad in ({"tag": {"$regex": "x"}}, {"$or": []}, [1], {"n": {"$gt": "1"}}):
        error_of(search(http, {"vector": GOOD, "filter": bad}), 400, "invalid_filter")


@pytest.mark.parametrize(
    "body",
    [
        {"dim": 4, "metric": "hamming"},
        {"dim": 0},
        {"dim": 5000},
        {"dim": "4"},
        {},
        {"dim": 4, "x": 1},
    ],
)
def test_bad_collection_spec(http: httpx.Client, body: dict[str, Any]) -> None:
    error_of(http.put("/v1/collections/fresh", json=body), 400, "invalid_parameter")
    error_of(http.get("/v1/collections/fresh"), 404, "collection_not_found")


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"records": {"id": "a", "vector": GOOD}}, "records"),
        ({"records": []}, "records"),
        ({"records": [{"id": 5, "vector": GOOD}]}, "id"),
        ({"records": [{"id": "", "vector": GOOD}]}, "id"),
        ({"records": [{"vector": GOOD}]}, "id"),
    ],
)
def test_bad_records(http: httpx.Client, body: dict[str, Any], field: str) -> None:
    error = error_of(upsert(http, body), 400, "invalid_parameter")
    assert error["details"]["field"] == field


def test_metadata_must_be_an_object(http: httpx.Client) -> None:
    for metadata in ([1, 2], "text", 5):
        body = {"records": [{"id": "m", "vector": GOOD, "metadata": metadata}]}
        error_of(upsert(http, body), 400, "invalid_parameter")
    error_of(http.get("/v1/collections/c/records/m"), 404, "record_not_found")


def test_one_bad_record_rejects_the_whole_write(http: httpx.Client) -> None:
    body = {"records": [{"id": "ok1", "vector": GOOD}, {"id": "bad", "vector": [1.0]}]}
    error = error_of(upsert(http, body), 400, "dimension_mismatch")
    assert "records[1]" in error["message"]
    error_of(http.get("/v1/collections/c/records/ok1"), 404, "record_not_found")


def test_missing_record(http: httpx.Client) -> None:
    error = error_of(http.get("/v1/collections/c/records/ghost"), 404, "record_not_found")
    assert error["details"]["id"] == "ghost"


# -- WebSocket ---------------------------------------------------------------------------
def ws_exchange(
    node: NodeProcess, frames: Sequence[str | bytes], replies: int
) -> list[dict[str, Any]]:
    with connect(node.ws_url, open_timeout=10, close_timeout=5) as ws:
        for frame in frames:
            ws.send(frame)
        return [json.loads(ws.recv(timeout=10)) for _ in range(replies)]


def test_ws_unknown_op_keeps_the_socket(bad_node: NodeProcess, http: httpx.Client) -> None:
    frames = [json.dumps({"id": "u1", "op": "explode"}), json.dumps({"id": "p1", "op": "ping"})]
    pong, error = sorted(ws_exchange(bad_node, frames, 2), key=lambda f: f["id"])
    assert pong == {"id": "p1", "type": "pong"}
    assert error["id"] == "u1" and error["type"] == "error"
    assert error["error"]["code"] == "unknown_op"


@pytest.mark.parametrize("frame", ["{not json", "[1, 2]", b"\x00\xff", "null"])
def test_ws_malformed_frame_gets_error_with_null_id(
    bad_node: NodeProcess, http: httpx.Client, frame: str | bytes
) -> None:
    error, pong = ws_exchange(bad_node, [frame, json.dumps({"id": 7, "op": "ping"})], 2)
    assert error["id"] is None and error["type"] == "error"
    assert error["error"]["code"] == "invalid_json"
    assert pong == {"id": 7, "type": "pong"}


def test_ws_bad_requests_answer_with_their_codes(bad_node: NodeProcess, http: httpx.Client) -> None:
    frames = [
        {"id": 1, "op": "search", "collection": "c", "vector": [1.0]},
        {"id": 2, "op": "search", "collection": "c", "vector": GOOD, "k": 0},
        {"id": 3, "op": "search", "collection": "nope", "vector": GOOD},
        {"id": 4, "op": "search", "collection": "c", "vector": GOOD, "filter": {"$x": 1}},
        {"id": 5, "op": "upsert", "collection": "c", "records": [{"id": 9, "vector": GOOD}]},
        {"id": 6, "op": "search", "vector": GOOD},
        {"id": 7, "op": "search", "collection": "c", "vector": GOOD, "k": 1},
    ]
    replies = ws_exchange(bad_node, [json.dumps(f) for f in frames], len(frames))
    by_id = {r["id"]: r for r in replies}
    codes = {i: by_id[i]["error"]["code"] for i in range(1, 7)}
    assert codes == {
        1: "dimension_mismatch",
        2: "invalid_parameter",
        3: "collection_not_found",
        4: "invalid_filter",
        5: "invalid_parameter",
        6: "invalid_parameter",
    }
    assert by_id[7]["type"] == "result" and by_id[7]["hits"][0]["id"] == "keep"
