"""Stated input limits on a real node: each refusal a 4xx with its code, nothing stored.

Poison records first: metadata nested past the JSON encoders' depth was once
stored, and from then on its GET and every search that found it failed (500
over REST, no reply over the WebSocket, an SSE stream cut mid-body).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from websockets.sync.client import connect

from ruvstream.config import InputLimits
from ruvstream.testing import NodeProcess, running_node

DIM = 4
GOOD = [0.1, 0.2, 0.3, 0.4]
LIMITS = InputLimits()


@pytest.fixture(scope="module")
def limits_node(tmp_path_factory: pytest.TempPathFactory) -> Iterator[NodeProcess]:
    """One node with default limits, collection "c" holding record "keep"."""
    with running_node(tmp_path_factory.mktemp("limits")) as node:
        with httpx.Client(base_url=node.url, timeout=60) as http:
            assert http.put("/v1/collections/c", json={"dim": DIM}).status_code == 201
            body = {"records": [{"id": "keep", "vector": GOOD, "metadata": {"tag": "x"}}]}
            assert http.post("/v1/collections/c/records", json=body).status_code == 200
        yield node


@pytest.fixture
def http(limits_node: NodeProcess) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=limits_node.url, timeout=60) as client:
        yield client
        assert_serving(client)


def assert_serving(http: httpx.Client) -> None:
    """The node answers every read path, SSE included, in full."""
    assert http.get("/v1/collections/c/records/keep").status_code == 200
    found = http.post("/v1/collections/c/search", json={"vector": GOOD, "k": 100})
    assert found.status_code == 200, found.text
    streamed = http.post(
        "/v1/collections/c/search",
        json={"vector": GOOD, "k": 100},
        headers={"accept": "text/event-stream"},
    )
    assert streamed.status_code == 200
    assert "event: done" in streamed.text and "event: error" not in streamed.text


def error_of(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    error: dict[str, Any] = response.json()["error"]
    assert error["code"] == code, error
    return error


def nested(levels: int) -> dict[str, Any]:
    """Metadata whose objects nest ``levels`` deep (the metadata object itself is 1)."""
    value: dict[str, Any] = {"leaf": 1}
    for _ in range(levels - 1):
        value = {"n": value}
    return value


def upsert(http: httpx.Client, records: list[dict[str, Any]]) -> httpx.Response:
    return http.post("/v1/collections/c/records", json={"records": records})


def deep_record(record_id: str, levels: int) -> str:
    """A record as JSON text: the encoders of the standard library stop near 1,000 levels."""
    meta = '{"n": ' * (levels - 1) + '{"leaf": 1}' + "}" * (levels - 1)
    return f'{{"id": "{record_id}", "vector": {json.dumps(GOOD)}, "metadata": {meta}}}'


# -- poison records --------------------------------------------------------------------
@pytest.mark.parametrize("levels", [LIMITS.max_metadata_depth + 1, 300, 1000])
def test_deep_metadata_is_refused_over_rest(http: httpx.Client, levels: int) -> None:
    body = '{"records": [' + deep_record("deep", levels) + "]}"
    response = http.post("/v1/collections/c/records", content=body)
    error = error_of(response, 400, "invalid_parameter")
    assert error["details"] == {
        "field": "metadata",
        "index": 0,
        "limit": LIMITS.max_metadata_depth,
    }
    error_of(http.get("/v1/collections/c/records/deep"), 404, "record_not_found")


def test_deep_lists_count_as_nesting_too(http: httpx.Client) -> None:
    value: Any = 1
    for _ in range(LIMITS.max_metadata_depth):
        value = [value]
    response = upsert(http, [{"id": "lists", "vector": GOOD, "metadata": {"l": value}}])
    error_of(response, 400, "invalid_parameter")


def test_metadata_at_the_limit_is_stored_and_served_everywhere(
    limits_node: NodeProcess, http: httpx.Client
) -> None:
    meta = nested(LIMITS.max_metadata_depth)
    assert upsert(http, [{"id": "edge", "vector": GOOD, "metadata": meta}]).status_code == 200
    assert http.get("/v1/collections/c/records/edge").json()["metadata"] == meta
    frame = {"id": 1, "op": "search", "collection": "c", "vector": GOOD, "k": 10}
    with connect(limits_node.ws_url, open_timeout=10, close_timeout=5) as ws:
        ws.send(json.dumps(frame))
        reply = json.loads(ws.recv(timeout=30))
    assert reply["type"] == "result" and "edge" in {h["id"] for h in reply["hits"]}
    assert http.post("/v1/collections/c/records/delete", json={"ids": ["edge"]}).is_success


def test_deep_metadata_over_the_websocket_gets_an_error_frame(
    limits_node: NodeProcess, http: httpx.Client
) -> None:
    upsert_frame = '{"id": "u", "op": "upsert", "collection": "c", "records": ['
    frames = [
        upsert_frame + deep_record("ws-deep", 400) + "]}",
        json.dumps({"id": "p", "op": "ping"}),
        json.dumps({"id": "s", "op": "search", "collection": "c", "vector": GOOD, "k": 100}),
    ]
    with connect(limits_node.ws_url, open_timeout=10, close_timeout=5) as ws:
        for frame in frames:
            ws.send(frame)
        replies = {r["id"]: r for r in (json.loads(ws.recv(timeout=30)) for _ in frames)}
    assert replies["u"]["type"] == "error"
    assert replies["u"]["error"]["code"] == "invalid_parameter"
    assert replies["p"] == {"id": "p", "type": "pong"}
    assert replies["s"]["type"] == "result"
    assert "ws-deep" not in {h["id"] for h in replies["s"]["hits"]}
    error_of(http.get("/v1/collections/c/records/ws-deep"), 404, "record_not_found")


def test_metadata_over_its_byte_limit_is_refused(http: httpx.Client) -> None:
    meta = {"blob": "x" * LIMITS.max_metadata_bytes}
    error = error_of(
        upsert(http, [{"id": "big", "vector": GOOD, "metadata": meta}]), 400, "invalid_parameter"
    )
    assert error["details"]["limit"] == LIMITS.max_metadata_bytes
    error_of(http.get("/v1/collections/c/records/big"), 404, "record_not_found")


# -- contract holes ----------------------------------------------------------------------
def test_k_null_is_a_bad_request(limits_node: NodeProcess, http: httpx.Client) -> None:
    body = {"vector": GOOD, "k": None}
    error = error_of(http.post("/v1/collections/c/search", json=body), 400, "invalid_parameter")
    assert error["details"]["field"] == "k"
    batch = {"queries": [body]}
    error_of(http.post("/v1/collections/c/search/batch", json=batch), 400, "invalid_parameter")
    with connect(limits_node.ws_url, open_timeout=10, close_timeout=5) as ws:
        ws.send(json.dumps({"id": 1, "op": "search", "collection": "c", **body}))
        reply = json.loads(ws.recv(timeout=30))
    assert reply["type"] == "error" and reply["error"]["code"] == "invalid_parameter"


@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded"])
def test_json_routes_refuse_other_content_types(http: httpx.Client, content_type: str) -> None:
    """What a browser sends cross-origin without asking: never parsed, never written."""
    headers = {"content-type": content_type}
    record = json.dumps({"records": [{"id": "plain", "vector": GOOD}]})
    for method, path, body in [
        ("POST", "/v1/collections/c/records", record),
        ("POST", "/v1/collections/c/records/delete", json.dumps({"ids": ["keep"]})),
        ("POST", "/v1/collections/c/search", json.dumps({"vector": GOOD})),
        ("POST", "/v1/collections/c/search/batch", json.dumps({"queries": [{"vector": GOOD}]})),
        ("POST", "/v1/collections/c/subscriptions", json.dumps({"vector": GOOD})),
        ("PUT", "/v1/collections/fresh", json.dumps({"dim": DIM})),
    ]:
        response = http.request(method, path, content=body, headers=headers)
        error = error_of(response, 415, "unsupported_media_type")
        assert error["details"]["got"] == content_type
    error_of(http.get("/v1/collections/c/records/plain"), 404, "record_not_found")
    error_of(http.get("/v1/collections/fresh"), 404, "collection_not_found")


def test_json_with_a_charset_and_no_content_type_are_json(http: httpx.Client) -> None:
    body = json.dumps({"vector": GOOD, "k": 1})
    for headers in ({"content-type": "application/json; charset=utf-8"}, {}):
        response = http.post("/v1/collections/c/search", content=body, headers=headers)
        assert response.status_code == 200, response.text


@pytest.mark.parametrize("record_id", ["a/b", "/", ".", "..", "tab\there", "nul\x00", "\x7f"])
def test_ids_that_a_url_cannot_fetch_are_refused(http: httpx.Client, record_id: str) -> None:
    error = error_of(upsert(http, [{"id": record_id, "vector": GOOD}]), 400, "invalid_parameter")
    assert error["details"]["field"] == "id"


def test_every_accepted_id_is_fetchable_by_its_url(http: httpx.Client) -> None:
    ids = ["a b", "a?b", "a#b", "100%", "ü-名前", "delete", "a,b", "a+b", "~x", "a" * 512]
    assert upsert(http, [{"id": i, "vector": GOOD} for i in ids]).status_code == 200
    for record_id in ids:
        got = http.get(f"/v1/collections/c/records/{quote(record_id, safe='')}")
        assert got.status_code == 200, (record_id, got.text)
        assert got.json()["id"] == record_id
    error_of(upsert(http, [{"id": "a" * 513, "vector": GOOD}]), 400, "invalid_parameter")
    assert http.post("/v1/collections/c/records/delete", json={"ids": ids}).json()["deleted"] == 10


def test_filter_sizes_are_bounded(http: httpx.Client) -> None:
    many = list(range(LIMITS.max_filter_values + 1))
    for bad in (
        {"n": {"$in": many}},
        {"n": {"$nin": many}},
        {"$or": [{"n": i} for i in range(LIMITS.max_filter_branches + 1)]},
    ):
        body = {"vector": GOOD, "filter": bad}
        error = error_of(http.post("/v1/collections/c/search", json=body), 400, "invalid_filter")
        assert error["details"]["limit"] in (LIMITS.max_filter_values, LIMITS.max_filter_branches)
    at_limit = {"vector": GOOD, "filter": {"tag": {"$in": [*map(str, many[:-2]), "x"]}}}
    assert [
        h["id"] for h in http.post("/v1/collections/c/search", json=at_limit).json()["hits"]
    ] == ["keep"]


def test_records_and_ids_per_write_are_bounded(http: httpx.Client) -> None:
    most = LIMITS.max_records_per_write
    ids = {"ids": [f"i{n}" for n in range(most + 1)]}
    error = error_of(
        http.post("/v1/collections/c/records/delete", json=ids), 400, "invalid_parameter"
    )
    assert error["details"] == {"field": "ids", "limit": most}
    records = [{"id": f"r{n}", "vector": GOOD} for n in range(most + 1)]
    error = error_of(upsert(http, records), 400, "invalid_parameter")
    assert error["details"] == {"field": "records", "limit": most}
    error_of(http.get("/v1/collections/c/records/r0"), 404, "record_not_found")


def test_deep_input_on_the_sse_paths_is_refused_before_the_stream(http: httpx.Client) -> None:
    deep: dict[str, Any] = {"tag": "x"}
    for _ in range(LIMITS.max_filter_depth + 1):
        deep = {"$not": deep}
    query = {"vector": GOOD, "filter": deep}
    streamed = http.post(
        "/v1/collections/c/search", json=query, headers={"accept": "text/event-stream"}
    )
    error_of(streamed, 400, "invalid_filter")
    error_of(http.post("/v1/collections/c/subscriptions", json=query), 400, "invalid_filter")
    null_k = {"vector": GOOD, "k": None}
    error_of(http.post("/v1/collections/c/subscriptions", json=null_k), 400, "invalid_parameter")


def test_limits_are_set_on_the_command_line(tmp_path: Path) -> None:
    args = ("--max-metadata-depth", "4", "--max-records-per-write", "3")
    with (
        running_node(tmp_path / "small", args=args) as node,
        httpx.Client(base_url=node.url, timeout=60) as http,
    ):
        assert http.put("/v1/collections/c", json={"dim": DIM}).status_code == 201
        assert upsert(http, [{"id": "a", "vector": GOOD, "metadata": nested(4)}]).is_success
        error = error_of(
            upsert(http, [{"id": "b", "vector": GOOD, "metadata": nested(5)}]),
            400,
            "invalid_parameter",
        )
        assert error["details"]["limit"] == 4
        records = [{"id": f"r{n}", "vector": GOOD} for n in range(4)]
        assert error_of(upsert(http, records), 400, "invalid_parameter")["details"] == {
            "field": "records",
            "limit": 3,
        }
