"""What a node listens on: never the network without keys (unless told), TLS on request."""

from __future__ import annotations

import ssl
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from ruvstream.client import Client, TransportError
from ruvstream.client.errors import ConnectError
from ruvstream.devstack.process import START_TIMEOUT, await_port, launch, stop
from ruvstream.errors import UnauthorizedError
from ruvstream.testing import running_node

from ..certs import Certificates, make_certificates
from .test_auth import create_key


def _serve(data_dir: Path, *args: str) -> list[str]:
    return [
        sys.executable, "-m", "ruvstream", "serve", "--data-dir", str(data_dir),
        "--port", "0", "--port-file", str(data_dir / "port"), "--log-level", "warning", *args,
    ]  # fmt: skip


def test_a_network_listener_without_keys_is_refused(tmp_path: Path) -> None:
    done = subprocess.run(
        _serve(tmp_path / "open", "--host", "0.0.0.0"), capture_output=True, timeout=120
    )
    assert done.returncode == 1
    assert b"refusing to listen on 0.0.0.0 without --api-keys" in done.stderr
    assert not (tmp_path / "open" / "port").exists()


def test_insecure_or_a_key_file_lets_it_listen(tmp_path: Path) -> None:
    keys = tmp_path / "keys.json"
    key = create_key(keys, "--scopes", "read")
    for name, args in (
        ("insecure", ("--host", "0.0.0.0", "--insecure")),
        ("keyed", ("--host", "0.0.0.0", "--api-keys", str(keys))),
    ):
        with running_node(tmp_path / name, args=args) as node:
            answer = httpx.get(f"{node.url}/v1/collections", headers={"X-API-Key": key})
            assert answer.status_code == 200, (name, answer.text)


@pytest.fixture
def tls_node(tmp_path: Path) -> Iterator[tuple[str, Certificates, str]]:
    certs = make_certificates(tmp_path / "certs")
    keys = tmp_path / "keys.json"
    key = create_key(keys, "--scopes", "admin")
    data_dir = tmp_path / "node"
    data_dir.mkdir()
    log = data_dir / "node.log"
    args = ("--tls-cert", str(certs.cert), "--tls-key", str(certs.key), "--api-keys", str(keys))
    process = launch(_serve(data_dir, "--host", "127.0.0.1", *args), log)
    try:
        port = await_port(process, data_dir / "port", log, time.monotonic() + START_TIMEOUT)
        url = f"https://127.0.0.1:{port}"
        deadline = time.monotonic() + START_TIMEOUT
        trust = ssl.create_default_context(cafile=str(certs.ca))
        while httpx.get(f"{url}/ready", verify=trust, timeout=5).status_code != 200:
            assert time.monotonic() < deadline, log.read_text()
            time.sleep(0.05)
        yield url, certs, key
    finally:
        stop(process)


def test_tls_round_trip_through_the_sdk(tls_node: tuple[str, Certificates, str]) -> None:
    url, certs, key = tls_node
    with Client(url, api_key=key, ca_file=certs.ca, timeouts=30.0) as client:
        client.create_collection("tls", dim=2)
        client.upsert("tls", [{"id": "a", "vector": [1.0, 0.0]}])
        assert [hit.id for hit in client.search("tls", [1.0, 0.0], k=1).hits] == ["a"]
        with client.session() as session:  # wss://, the same CA and key
            assert [hit.id for hit in session.search("tls", [1.0, 0.0], k=1).hits] == ["a"]
    # The search over TLS took the node's fast HTTP path, key check included.
    trust = ssl.create_default_context(cafile=str(certs.ca))
    metrics = httpx.get(f"{url}/metrics", headers={"X-API-Key": key}, verify=trust).text
    assert 'ruvstream_http_search_path_total{path="fast"} 1.0' in metrics
    # The certificate is checked: without the CA the SDK refuses the node.
    with (
        Client(url, api_key=key, timeouts=10.0) as untrusting,
        pytest.raises((ConnectError, TransportError)),
    ):
        untrusting.list_collections()
    # Over TLS the key is still asked for.
    with Client(url, ca_file=certs.ca, timeouts=10.0) as keyless, pytest.raises(UnauthorizedError):
        keyless.list_collections()


def test_a_missing_key_file_stops_the_start_in_one_line(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere.json"
    done = subprocess.run(
        _serve(tmp_path / "node", "--api-keys", str(missing)), capture_output=True, timeout=120
    )
    assert done.returncode == 1
    assert f"ruvstream serve: no key file at {missing}".encode() in done.stderr
    assert b"Traceback" not in done.stderr


def test_cors_preflight_and_answers_carry_the_allowed_origin(tmp_path: Path) -> None:
    keys = tmp_path / "keys.json"
    key = create_key(keys, "--scopes", "admin")
    origin = "https://app.example"
    args = ("--api-keys", str(keys), "--cors-origins", origin)
    with running_node(tmp_path / "node", args=args) as node, httpx.Client(timeout=30) as http:
        search = f"{node.url}/v1/collections/c/search"
        preflight = http.options(
            search,
            headers={
                "Origin": origin,
                "Access-Control-Request-Method": "POST",
                "Access-Control-Request-Headers": "authorization,content-type",
            },
        )
        assert preflight.status_code == 200  # no key on a preflight, and none needed
        assert preflight.headers["access-control-allow-origin"] == origin
        headers = {"Authorization": f"Bearer {key}", "Origin": origin}
        assert http.put(f"{node.url}/v1/collections/c", json={"dim": 2}, headers=headers)
        answer = http.post(search, json={"vector": [1.0, 0.0], "k": 1}, headers=headers)
        assert answer.status_code == 200, answer.text
        assert answer.headers["access-control-allow-origin"] == origin
        refused = http.post(search, json={"vector": [1.0, 0.0], "k": 1}, headers={"Origin": origin})
        assert refused.status_code == 401
        assert refused.headers["access-control-allow-origin"] == origin
        other = http.options(
            search,
            headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "POST"},
        )
        assert "access-control-allow-origin" not in other.headers
