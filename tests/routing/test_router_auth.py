"""The router with the node's key file: the same check, tiers from the keys, a node key."""

from __future__ import annotations

import json
import ssl
from pathlib import Path

import httpx
import orjson
import websockets
from websockets.exceptions import InvalidStatus
from websockets.typing import Origin

from ruvstream.routing import running_router

from ..certs import make_certificates
from ..node.test_auth import create_key
from .conftest import StartNode, settings


async def test_router_checks_keys_takes_tiers_from_them_and_forwards_with_its_node_key(
    tmp_path: Path, start_node: StartNode
) -> None:
    node_keys = tmp_path / "node-keys.json"
    node_key = create_key(node_keys, "--scopes", "admin", "--name", "router")
    node = start_node("us-east1", "e1", args=("--api-keys", str(node_keys)))
    client_keys = tmp_path / "keys.json"
    admin = create_key(client_keys, "--scopes", "admin", "--tier", "premium")
    reader = create_key(client_keys, "--scopes", "read", "--tier", "standard")
    limited = create_key(client_keys, "--scopes", "read", "--tier", "free")
    document = json.loads(client_keys.read_text())
    document["tiers"] = {"free": {"rate": 0.01, "burst": 1}}
    client_keys.write_text(json.dumps(document))
    config = settings([node], api_keys=client_keys, node_key=node_key, anonymous_tier=None)
    async with running_router(config) as url, httpx.AsyncClient(timeout=30) as http:
        assert (await http.get(url + "/v1/collections")).status_code == 401
        wrong = await http.get(url + "/v1/collections", headers={"X-API-Key": node_key})
        assert wrong.status_code == 401  # the node's key is no client key of the router
        put = await http.put(
            url + "/v1/collections/c", json={"dim": 2}, headers={"X-API-Key": admin}
        )
        assert put.status_code == 201, put.text  # the node accepted the router's node key
        record = {"records": [{"id": "a", "vector": [1.0, 0.0]}]}
        refused = await http.post(
            url + "/v1/collections/c/records", json=record, headers={"X-API-Key": reader}
        )
        assert refused.status_code == 403 and refused.json()["error"]["code"] == "forbidden"
        wrote = await http.post(
            url + "/v1/collections/c/records", json=record, headers={"X-API-Key": admin}
        )
        assert wrote.status_code == 200, wrote.text
        search = {"vector": [1.0, 0.0], "k": 1}
        found = await http.post(
            url + "/v1/collections/c/search", json=search, headers={"X-API-Key": reader}
        )
        assert found.status_code == 200 and found.json()["hits"][0]["id"] == "a"
        # The free key's tier (rate 0.01/s, burst 1) admits one request, then 429.
        codes = [
            (await http.get(url + "/v1/collections", headers={"X-API-Key": limited})).status_code
            for _ in range(3)
        ]
        assert codes[0] == 200 and 429 in codes, codes
        # The degradation plan is the control plane's: an admin key, nothing less.
        assert (await http.get(url + "/admin/degradation")).status_code == 401
        plan = await http.get(url + "/admin/degradation", headers={"X-API-Key": reader})
        assert plan.status_code == 403
        plan = await http.get(url + "/admin/degradation", headers={"X-API-Key": admin})
        assert plan.status_code == 200, plan.text
        ws_url = url.replace("http://", "ws://") + "/v1/ws"
        try:
            async with websockets.connect(ws_url):
                raise AssertionError("a keyless WebSocket was accepted")
        except InvalidStatus as exc:
            assert exc.response.status_code == 401
        try:
            foreign = Origin("https://evil.example")
            async with websockets.connect(f"{ws_url}?api_key={reader}", origin=foreign):
                raise AssertionError("a WebSocket from a foreign page was accepted")
        except InvalidStatus as exc:
            assert exc.response.status_code == 403
        async with websockets.connect(f"{ws_url}?api_key={reader}") as ws:
            await ws.send(orjson.dumps({"id": 1, "op": "search", "collection": "c", **search}))
            answer = orjson.loads(await ws.recv())
            assert answer["type"] == "result", answer


async def test_router_serves_tls(tmp_path: Path, start_node: StartNode) -> None:
    certs = make_certificates(tmp_path / "certs")
    node = start_node("us-east1", "e1")
    config = settings([node], tls_cert=certs.cert, tls_key=certs.key)
    trust = ssl.create_default_context(cafile=str(certs.ca))
    async with running_router(config) as url, httpx.AsyncClient(verify=trust) as http:
        assert url.startswith("https://")
        assert (await http.get(url + "/v1/collections")).status_code == 200


async def test_without_a_node_key_the_clients_key_goes_through_to_nodes(
    tmp_path: Path, start_node: StartNode
) -> None:
    """One key file for router and nodes (as deploy/ mounts it): the client's key works on both."""
    keys = tmp_path / "keys.json"
    admin = create_key(keys, "--scopes", "admin", "--tier", "premium")
    node = start_node("us-east1", "e1", args=("--api-keys", str(keys)))
    config = settings([node], api_keys=keys, anonymous_tier=None)
    async with running_router(config) as url, httpx.AsyncClient(timeout=30) as http:
        put = await http.put(
            url + "/v1/collections/c", json={"dim": 2}, headers={"Authorization": f"Bearer {admin}"}
        )
        assert put.status_code == 201, put.text
        ws_url = url.replace("http://", "ws://") + "/v1/ws"
        async with websockets.connect(ws_url, additional_headers={"X-API-Key": admin}) as ws:
            upsert = {"id": 1, "op": "upsert", "collection": "c"}
            await ws.send(orjson.dumps({**upsert, "records": [{"id": "a", "vector": [1, 0]}]}))
            answer = orjson.loads(await ws.recv())
            assert answer["type"] == "result", answer
