"""Keys and scopes on a real node: every entry (ASGI routes, the fast HTTP path,
the WebSocket upgrade and its frames, the peer routes) makes the same check."""

from __future__ import annotations

import asyncio
import re
import socket
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import orjson
import pytest
import websockets
from click.testing import CliRunner
from websockets.exceptions import InvalidStatus

from ruvstream.cli.main import main
from ruvstream.replication import bootstrap_from_peer
from ruvstream.testing import NodeProcess, running_node

ALLOWED_ORIGIN = "https://app.example"


def create_key(path: Path, *args: str) -> str:
    """``ruvstream keys create``: the key is the one line on stdout."""
    result = CliRunner().invoke(main, ["keys", "create", "--file", str(path), *args])
    assert result.exit_code == 0, result.output
    (key,) = result.stdout.split()
    return key


@dataclass
class Keys:
    admin: str
    reader: str
    team_writer: str
    team_admin: str


@dataclass
class Secured:
    node: NodeProcess
    keys: Keys


@pytest.fixture(scope="module")
def secured(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Secured]:
    work = tmp_path_factory.mktemp("auth-node")
    path = work / "keys.json"
    keys = Keys(
        admin=create_key(path, "--scopes", "admin", "--name", "ops"),
        reader=create_key(path, "--scopes", "read"),
        team_writer=create_key(path, "--scopes", "read,write", "--collections", "team-*"),
        team_admin=create_key(path, "--scopes", "admin", "--collections", "team-*"),
    )
    args = ("--api-keys", str(path), "--allowed-origins", ALLOWED_ORIGIN)
    with running_node(work / "node", args=args) as node:
        admin = _bearer(keys.admin)
        for name in ("team-a", "other"):
            created = httpx.put(
                f"{node.url}/v1/collections/{name}", json={"dim": 2}, headers=admin, timeout=30
            )
            assert created.status_code == 201, created.text
            wrote = httpx.post(
                f"{node.url}/v1/collections/{name}/records",
                json={"records": [{"id": "r1", "vector": [1.0, 0.0]}]},
                headers=admin,
                timeout=30,
            )
            assert wrote.status_code == 200, wrote.text
        yield Secured(node, keys)


def _bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def _code(response: httpx.Response) -> str:
    return str(response.json()["error"]["code"])


def test_no_key_or_a_wrong_key_is_401_with_a_challenge(secured: Secured) -> None:
    url = secured.node.url
    bad = secured.keys.reader[:-4] + "AAAA"
    for headers in ({}, _bearer(bad), {"X-API-Key": "guess"}, {"Authorization": "Basic eDp5"}):
        answer = httpx.get(f"{url}/v1/collections", headers=headers, timeout=30)
        assert answer.status_code == 401, (headers, answer.text)
        assert _code(answer) == "unauthorized"
        assert answer.headers["www-authenticate"] == 'Bearer realm="ruvstream"'
    # Probes and the contract stay open; metrics need a key.
    for path in ("/health", "/ready", "/openapi.json"):
        assert httpx.get(url + path, timeout=30).status_code == 200
    assert httpx.get(f"{url}/metrics", timeout=30).status_code == 401
    metrics = httpx.get(f"{url}/metrics", headers=_bearer(secured.keys.reader), timeout=30)
    assert metrics.is_success
    # Refusals are counted by code beside admission's own.
    counted = re.search(
        r'ruvstream_admission_rejected_total\{reason="unauthorized"\} (\S+)', metrics.text
    )
    assert counted is not None and float(counted.group(1)) >= 5


def test_scopes_and_collection_patterns_are_403(secured: Secured) -> None:
    keys, url = secured.keys, secured.node.url
    record = {"records": [{"id": "r2", "vector": [0.0, 1.0]}]}
    with httpx.Client(base_url=url, timeout=30) as http:

        def status(method: str, path: str, key: str, body: object = None) -> int:
            answer = http.request(method, path, json=body, headers={"X-API-Key": key})
            if answer.status_code == 403:
                assert _code(answer) == "forbidden"
            return answer.status_code

        search = {"vector": [1.0, 0.0], "k": 1}
        assert status("POST", "/v1/collections/other/search", keys.reader, search) == 200
        assert status("GET", "/v1/collections/other/records/r1", keys.reader) == 200
        assert status("POST", "/v1/collections/other/records", keys.reader, record) == 403
        assert status("DELETE", "/v1/collections/other/records/r1", keys.reader) == 403
        assert status("DELETE", "/v1/collections/other", keys.reader) == 403
        assert status("PUT", "/v1/collections/new", keys.reader, {"dim": 2}) == 403
        # A write key reaches only its collections, and cannot drop them.
        assert status("POST", "/v1/collections/team-a/records", keys.team_writer, record) == 200
        assert status("POST", "/v1/collections/other/records", keys.team_writer, record) == 403
        assert status("POST", "/v1/collections/other/search", keys.team_writer, search) == 403
        assert status("DELETE", "/v1/collections/team-a", keys.team_writer) == 403
        # An admin of team-* manages team-* only; the admin of all can everything.
        assert status("PUT", "/v1/collections/team-b", keys.team_admin, {"dim": 2}) == 201
        assert status("DELETE", "/v1/collections/team-b", keys.team_admin) == 200
        assert status("DELETE", "/v1/collections/other", keys.team_admin) == 403
        assert status("PUT", "/v1/collections/scratch", keys.admin, {"dim": 2}) == 201
        assert status("DELETE", "/v1/collections/scratch", keys.admin) == 200
        assert http.get("/v1/collections/other", headers=_bearer(keys.reader)).is_success


def _search_paths(node: NodeProcess, key: str) -> dict[str, float]:
    text = httpx.get(f"{node.url}/metrics", headers=_bearer(key), timeout=30).text
    found = re.findall(r'ruvstream_http_search_path_total\{path="(\w+)"\} (\S+)', text)
    return {path: float(value) for path, value in found}


def _raw_search(node: NodeProcess, extra: bytes) -> bytes:
    """One plain HTTP/1.1 search, the kind the fast path answers; the status line."""
    body = orjson.dumps({"vector": [1.0, 0.0], "k": 1})
    request = (
        b"POST /v1/collections/other/search HTTP/1.1\r\nHost: t\r\nConnection: close\r\n"
        b"Content-Type: application/json\r\nContent-Length: %d\r\n%s\r\n%s"
        % (len(body), extra, body)
    )
    with socket.create_connection(("127.0.0.1", node.port), timeout=30) as sock:
        sock.sendall(request)
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
    return answer.split(b"\r\n", 1)[0]


def test_the_fast_path_makes_the_same_check(secured: Secured) -> None:
    node, keys = secured.node, secured.keys
    before = _search_paths(node, keys.reader)
    assert _raw_search(node, b"") == b"HTTP/1.1 401 Unauthorized"
    assert _raw_search(node, b"X-API-Key: " + keys.team_writer.encode() + b"\r\n") == (
        b"HTTP/1.1 403 Forbidden"
    )
    between = _search_paths(node, keys.reader)
    ok = _raw_search(node, b"Authorization: Bearer " + keys.reader.encode() + b"\r\n")
    after = _search_paths(node, keys.reader)
    assert ok == b"HTTP/1.1 200 OK"
    # The refused ones were passed to the ASGI route, which refused them before the
    # search handler; the allowed one took the fast path.
    assert between == before
    assert after["fast"] - between["fast"] == 1


async def _ws_status(url: str, **options: object) -> int:
    try:
        async with websockets.connect(url, **options):  # type: ignore[arg-type]
            return 101
    except InvalidStatus as exc:
        return exc.response.status_code


def test_websocket_upgrade_needs_a_key_and_an_allowed_origin(secured: Secured) -> None:
    node, keys = secured.node, secured.keys
    query = f"{node.ws_url}?api_key={keys.reader}"

    async def scenario() -> None:
        assert await _ws_status(node.ws_url) == 401
        assert await _ws_status(f"{node.ws_url}?api_key=rvs_nope") == 401
        assert await _ws_status(query, origin="https://evil.example") == 403
        assert await _ws_status(query, origin=ALLOWED_ORIGIN) == 101
        header = {"X-API-Key": keys.reader}
        assert await _ws_status(node.ws_url, additional_headers=header) == 101
        async with websockets.connect(query) as ws:
            search = {"id": 1, "op": "search", "collection": "other", "vector": [1, 0], "k": 1}
            await ws.send(orjson.dumps(search).decode())
            assert orjson.loads(await ws.recv())["type"] == "result"
            upsert = {"id": 2, "op": "upsert", "collection": "other", "records": []}
            await ws.send(orjson.dumps(upsert).decode())
            refused = orjson.loads(await ws.recv())
            assert refused["id"] == 2 and refused["error"]["code"] == "forbidden"

    asyncio.run(scenario())


def test_replication_routes_need_an_admin_of_every_collection(secured: Secured) -> None:
    keys, url = secured.keys, secured.node.url + "/v1/replication/snapshot"
    assert httpx.get(url, timeout=60).status_code == 401
    assert httpx.get(url, headers=_bearer(keys.reader), timeout=60).status_code == 403
    assert httpx.get(url, headers=_bearer(keys.team_admin), timeout=60).status_code == 403
    answer = httpx.get(url, headers=_bearer(keys.admin), timeout=60)
    assert answer.status_code == 200 and answer.headers["content-type"] == "application/x-tar"


def test_the_client_command_sends_its_key(secured: Secured) -> None:
    url = secured.node.url
    runner = CliRunner()
    keyed = runner.invoke(main, ["client", "--url", url, "--api-key", secured.keys.reader, "info"])
    assert keyed.exit_code == 0, keyed.output
    assert {json_line["name"] for json_line in map(orjson.loads, keyed.stdout.splitlines())} >= {
        "team-a",
        "other",
    }
    keyless = runner.invoke(main, ["client", "--url", url, "info"])
    assert keyless.exit_code != 0


def test_a_new_node_bootstraps_from_a_keyed_peer_with_an_admin_key(
    secured: Secured, tmp_path: Path
) -> None:
    with pytest.raises(httpx.HTTPStatusError) as refused:
        bootstrap_from_peer(secured.node.url, tmp_path / "keyless")
    assert refused.value.response.status_code == 401
    key_file = tmp_path / "peer-key"
    key_file.write_text(secured.keys.admin + "\n")
    data_dir = tmp_path / "seeded"
    command = ["cluster", "bootstrap", "--peer", secured.node.url, "--data-dir", str(data_dir)]
    done = CliRunner().invoke(main, [*command, "--peer-key-file", str(key_file)])
    assert done.exit_code == 0, done.output
    assert any(data_dir.rglob("manifest.json"))
