"""Shared fixtures of the deployment tests: the deploy/ tree, YAML loading, a live stack.

``live_stack`` is the real thing the alert rules and dashboards are checked
against: two node processes in two regions replicating over the local NATS
JetStream (a stream of the test's own, deleted at the end) and a router in
front of them, after a little traffic of every kind, so that every labelled
series the product exports exists when ``/metrics`` is scraped.
"""

from __future__ import annotations

import asyncio
import json
import re
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
import websockets
import yaml

from ruvstream.replication import JetStreamBus
from ruvstream.testing import NodeProcess, RouterProcess, running_node

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
NATS_URL = "nats://127.0.0.1:4222"
MAX_PAYLOAD = 65536
_SAMPLE = re.compile(r"^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{.*\})? ")


SCAN_FRAMEWORKS = ("kubernetes", "dockerfile", "terraform")
_scan: dict[str, Any] = {}


def pytest_collection_finish(session: pytest.Session) -> None:
    """Start the checkov scan as soon as a scan test is selected: it runs beside the
    other tests (one core of two) instead of after them."""
    if any(item.path.name == "test_scan.py" for item in session.items):
        checkov = shutil.which("checkov", path=str(Path(sys.executable).parent))
        if checkov:
            output = tempfile.TemporaryFile()  # noqa: SIM115 (closed at session finish)
            command = [
                checkov,
                "--directory",
                str(DEPLOY),
                "--framework",
                *SCAN_FRAMEWORKS,
                "--output",
                "json",
                "--compact",
                "--skip-download",
            ]
            _scan["output"] = output
            _scan["process"] = subprocess.Popen(command, stdout=output, stderr=subprocess.DEVNULL)


def pytest_sessionfinish(session: pytest.Session) -> None:
    process = _scan.get("process")
    if process is not None and process.poll() is None:
        process.kill()
        process.wait()
    if "output" in _scan:
        _scan.pop("output").close()


def scan_report() -> Any:
    """The JSON checkov printed (waits for the scan started at collection)."""
    process = _scan.get("process")
    assert process is not None, "checkov is in the dev extra"
    process.wait(timeout=600)
    output = _scan["output"]
    output.seek(0)
    return json.loads(output.read())


def load_documents(path: Path) -> list[dict[str, Any]]:
    """Every non-empty YAML document of a file."""
    with path.open() as handle:
        return [doc for doc in yaml.safe_load_all(handle) if doc]


def sample_names(exposition: str) -> set[str]:
    """Names of the samples in a Prometheus text exposition (not HELP/TYPE lines)."""
    names = set()
    for line in exposition.splitlines():
        match = _SAMPLE.match(line)
        if match:
            names.add(match.group(1))
    return names


@dataclass
class LiveStack:
    east: NodeProcess
    west: NodeProcess
    router: RouterProcess
    exported: set[str]


def _eventually(check: Any, within: float = 60.0) -> None:
    """Poll ``check`` until true; a bound, not a measured time."""
    deadline = time.monotonic() + within
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached in time")
        time.sleep(0.1)


async def _websocket_session(url: str) -> None:
    """A search, a standing query and a write that it matches, over one socket."""
    async with websockets.connect(url) as ws:
        await ws.send(
            orjson.dumps(
                {"id": "s1", "op": "search", "collection": "deploy", "vector": [1, 0, 0, 0], "k": 3}
            ).decode()
        )
        await ws.send(
            orjson.dumps(
                {
                    "id": "sub",
                    "op": "subscribe",
                    "collection": "deploy",
                    "vector": [1, 0, 0, 0],
                    "min_score": -1000.0,
                }
            ).decode()
        )
        seen: set[str] = set()
        while not {"result", "subscribed"} <= seen:
            seen.add(orjson.loads(await ws.recv())["type"])
        await ws.send(
            orjson.dumps(
                {
                    "id": "u1",
                    "op": "upsert",
                    "collection": "deploy",
                    "records": [{"id": "ws-1", "vector": [1, 0, 0, 0], "metadata": {}}],
                }
            ).decode()
        )
        while "matches" not in seen:
            seen.add(orjson.loads(await ws.recv())["type"])


def _traffic(east: NodeProcess, router: RouterProcess, free_key: str) -> None:
    with httpx.Client(base_url=router.url, timeout=30.0) as http:
        created = http.put("/v1/collections/deploy", json={"dim": 4, "metric": "l2"})
        assert created.status_code == 201, created.text
        records = [
            {"id": f"r{i}", "vector": [float(i), 1, 0, 0], "metadata": {}} for i in range(20)
        ]
        assert http.post("/v1/collections/deploy/records", json={"records": records}).is_success
        search = http.post("/v1/collections/deploy/search", json={"vector": [1, 1, 0, 0], "k": 5})
        assert search.status_code == 200, search.text
        assert http.post("/v1/collections/missing/search", json={"vector": [1], "k": 1}).is_error
        # The free tier of the keys file admits one request: the second is refused.
        codes = [
            http.get("/v1/collections/deploy", headers={"X-API-Key": free_key}).status_code
            for _ in range(3)
        ]
        assert 429 in codes, codes
    asyncio.run(_websocket_session(router.url.replace("http://", "ws://") + "/v1/ws"))
    # Admission control on the node: a body over --max-payload-bytes.
    big = httpx.post(
        f"{east.url}/v1/collections/deploy/records",
        content=b"x" * (2 * MAX_PAYLOAD),
        headers={"content-type": "application/json"},
        timeout=30.0,
    )
    assert big.status_code == 413, big.text


def _scrape(url: str) -> set[str]:
    return sample_names(httpx.get(f"{url}/metrics", timeout=10.0).text)


def _delete_stream(stream: str) -> None:
    async def delete() -> None:
        bus = await JetStreamBus.connect(NATS_URL, stream)
        try:
            await bus.delete_stream()
        finally:
            await bus.close()

    asyncio.run(delete())


@pytest.fixture(scope="session")
def live_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveStack]:
    work = tmp_path_factory.mktemp("live-stack")
    stream = f"deploy-{uuid.uuid4().hex[:12]}"
    bus = ("--bus", "nats", "--nats-url", NATS_URL, "--stream", stream)
    free_key = f"free-{uuid.uuid4().hex[:12]}"
    keys = work / "keys.json"
    keys.write_text(
        json.dumps(
            {
                "keys": [{"key": free_key, "tier": "free"}],
                "tiers": {"free": {"rate": 0.01, "burst": 1}},
                "anonymous": "premium",
            }
        )
    )
    try:
        with (
            running_node(
                work / "east",
                region="us-east1",
                node_id="east-1",
                args=(*bus, "--max-payload-bytes", str(MAX_PAYLOAD)),
            ) as east,
            running_node(work / "west", region="europe-west1", node_id="west-1", args=bus) as west,
        ):
            router = RouterProcess(
                work / "router",
                [(east.region, east.url, "east-1"), (west.region, west.url, "west-1")],
                default_region="us-east1",
                args=("--keys-file", str(keys)),
            )
            router.start()
            try:
                _traffic(east, router, free_key)
                # The write reached the other region: replication series exist there.
                _eventually(
                    lambda: "ruvstream_replication_apply_delay_seconds_bucket" in _scrape(west.url)
                )
                exported = _scrape(east.url) | _scrape(west.url) | _scrape(router.url)
                yield LiveStack(east, west, router, exported)
            finally:
                router.stop()
    finally:
        _delete_stream(stream)
