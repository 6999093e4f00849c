"""``serve --http2``: HTTP/2 by prior knowledge, by h2c upgrade and over TLS, on the main port."""

from __future__ import annotations

import asyncio
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import websockets

from ruvstream import serving
from ruvstream.api.app import create_app
from ruvstream.api.http2 import serve_http2
from ruvstream.config import ServerSettings, Settings, StorageSettings
from ruvstream.testing import NodeProcess, running_node

from ..certs import make_certificates


def _curl(*args: str) -> tuple[str, str]:
    """``curl``'s body and the HTTP version it spoke (``-w %{http_version}``)."""
    done = subprocess.run(
        ["curl", "-s", "--max-time", "30", "-w", "\n%{http_version}", *args],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    body, _, version = done.stdout.rpartition("\n")
    return body, version


@pytest.fixture
def h2_node(tmp_path: Path) -> Iterator[NodeProcess]:
    with running_node(tmp_path / "node", args=["--http2"]) as node:
        yield node


def test_prior_knowledge_upgrade_and_http11_on_one_port(h2_node: NodeProcess) -> None:
    body, version = _curl("--http2-prior-knowledge", f"{h2_node.url}/health")
    assert version == "2" and '"status":"ok"' in body.replace(" ", "")
    assert _curl("--http2", f"{h2_node.url}/ready")[1] == "2"  # Upgrade: h2c, then HTTP/2
    assert _curl("--http1.1", f"{h2_node.url}/ready")[1] == "1.1"
    with httpx.Client(base_url=h2_node.url, http1=False, http2=True) as http:
        assert http.put("/v1/collections/c", json={"dim": 2, "metric": "l2"}).status_code == 201
        written = http.post(
            "/v1/collections/c/records", json={"records": [{"id": "a", "vector": [1, 2]}]}
        )
        assert written.http_version == "HTTP/2" and written.json()["upserted"] == 1
        hits = http.post("/v1/collections/c/search", json={"vector": [1, 2], "k": 1})
        assert hits.http_version == "HTTP/2" and hits.json()["hits"][0]["id"] == "a"


async def test_websockets_still_work_and_sigterm_drains(h2_node: NodeProcess) -> None:
    async with websockets.connect(h2_node.ws_url) as ws:
        await ws.send('{"id": 1, "op": "ping"}')
        assert '"pong"' in await asyncio.wait_for(ws.recv(), 30)
        code = await asyncio.to_thread(h2_node.terminate)
        with pytest.raises(websockets.ConnectionClosed) as closed:
            await asyncio.wait_for(ws.recv(), 30)
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 1001
    assert code == 0


def test_http2_over_tls_by_alpn(tmp_path: Path) -> None:
    """The node app served in-process by ``serve_http2`` with a certificate made here."""
    certs = make_certificates(tmp_path / "certs")
    settings = Settings(
        server=ServerSettings(port=0), storage=StorageSettings(data_dir=tmp_path / "data")
    )
    app = create_app(settings)
    sock = serving.bind("127.0.0.1", 0)
    port = sock.getsockname()[1]
    port_file = tmp_path / "port"
    loop = asyncio.new_event_loop()
    stop = asyncio.Event()

    async def main() -> None:
        await serve_http2(
            app,
            app.state.serving,
            sock,
            port_file=port_file,
            certfile=certs.cert,
            keyfile=certs.key,
            stop=stop,
        )

    server = threading.Thread(target=loop.run_until_complete, args=(main(),))
    server.start()
    try:
        deadline = 600
        while not port_file.exists() and deadline:
            server.join(0.1)
            deadline -= 1
        assert port_file.read_text() == str(port)
        url = f"https://127.0.0.1:{port}"
        body, version = _curl("--http2", "--cacert", str(certs.ca), f"{url}/health")
        assert version == "2" and '"status"' in body
        assert _curl("--http1.1", "--cacert", str(certs.ca), f"{url}/ready")[1] == "1.1"
    finally:
        loop.call_soon_threadsafe(stop.set)
        server.join(60)
        loop.close()
    assert not server.is_alive()
