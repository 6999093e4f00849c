"""``ruvstream control --autoscale`` as a process on the real NATS: the leader's rounds set
the router's degradation level, land in the scaling bucket where ``control decisions``
reads them, a restarted leader restores its state, and ``--dry-run`` only prints."""

from __future__ import annotations

import asyncio
import json
import re
import socket
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner

from ruvstream.cli.main import main
from ruvstream.control.names import ControlNames
from ruvstream.control.scaling_store import ScalingStore
from ruvstream.control.store.jetstream import NatsBackend
from ruvstream.testing import NodeProcess, RouterProcess

from .conftest import NATS_URL, wait_for
from .processes import ControlProcess

pytestmark = pytest.mark.nats

CONFIG = {"tick_seconds": 0.3, "node": {"qps_per_instance": 10}}
DASHBOARD = Path(__file__).parents[2] / "deploy" / "monitoring" / "grafana-dashboard.json"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


async def stored(backend: NatsBackend, names: ControlNames) -> list[dict[str, object]]:
    bucket = await backend.find(names.scaling)
    return [] if bucket is None else await ScalingStore(bucket).decisions()


def member(tmp_path: Path, names: ControlNames, name: str, *extra: str) -> ControlProcess:
    config = tmp_path / "scaling.json"
    config.write_text(json.dumps(CONFIG))
    args = ["--autoscale", "--actuator", "memory", "--region", "r1=1:3", "--lease", "2"]
    args += ["--scaling-config", str(config), *extra]
    return ControlProcess(tmp_path, name, names.namespace, NATS_URL, args)


async def test_the_leader_acts_records_and_restores(
    tmp_path: Path, plane: tuple[ControlNames, NatsBackend]
) -> None:
    names, backend = plane
    node = NodeProcess(tmp_path / "node", region="r1")
    await asyncio.to_thread(node.start)
    router = RouterProcess(tmp_path / "router", [("r1", node.url, "n1")], "r1")
    await asyncio.to_thread(router.start)
    metrics_port = free_port()
    first = member(
        tmp_path, names, "scaler-a", "--router-url", router.url,
        "--metrics-port", str(metrics_port),
    )  # fmt: skip
    first.start()
    try:
        async with httpx.AsyncClient(timeout=10) as client:

            async def plan_sent() -> bool:
                body = (await client.get(router.url + "/admin/degradation")).json()
                return bool(body.get("sequence"))

            await wait_for(plan_sent, within=30.0)
            state = (await client.get(router.url + "/admin/degradation")).json()
            assert state["level"] == "none" and state["fencing_token"] > 0

        async def logged(count: int) -> bool:
            return len(await stored(backend, names)) >= count

        await wait_for(lambda: logged(3), within=30.0)
        decisions = await stored(backend, names)
        assert {d["region"] for d in decisions} == {"r1"}
        assert decisions[0]["desired"] == 1 and decisions[0]["reason"] == "min-instances"
        assert not any(d["dry_run"] for d in decisions)

        # Every scaling metric the dashboards name is on the member's metrics port.
        async with httpx.AsyncClient(timeout=10) as client:
            scraped = (await client.get(f"http://127.0.0.1:{metrics_port}/metrics")).text
        wanted = set(re.findall(r"ruvstream_scaling_[a-z_]+", DASHBOARD.read_text()))
        assert wanted and all(re.search(rf"^{name}\b", scraped, re.M) for name in wanted)
        assert 'ruvstream_scaling_decisions_total{reason="min-instances"}' in scraped

        runner = CliRunner()
        args = ["--nats-url", NATS_URL, "--namespace", names.namespace]
        printed = await asyncio.to_thread(
            runner.invoke, main, ["control", "decisions", "--json", "--limit", "2", *args]
        )
        assert printed.exit_code == 0, printed.output
        assert len(json.loads(printed.output)) == 2
        people = await asyncio.to_thread(runner.invoke, main, ["control", "decisions", *args])
        assert "r1: " in people.output and "min-instances" in people.output

        first.stop()  # resigns: a successor takes over at once, from the saved state
        second = member(tmp_path, names, "scaler-b")
        second.start()
        try:
            await wait_for(
                lambda: asyncio.to_thread(lambda: "state restored" in second.log_path.read_text()),
                within=30.0,
            )
        finally:
            second.stop()
    finally:
        first.stop()
        await asyncio.to_thread(router.stop)
        await asyncio.to_thread(node.stop)


async def test_dry_run_prints_the_plan_and_sets_nothing(
    tmp_path: Path, plane: tuple[ControlNames, NatsBackend]
) -> None:
    names, backend = plane
    dry = member(tmp_path, names, "scaler-dry", "--dry-run")
    dry.start()
    try:

        def printed() -> bool:
            return dry.log_path.exists() and "(dry run)" in dry.log_path.read_text()

        await wait_for(lambda: asyncio.to_thread(printed), within=30.0)
        assert "r1: 0 -> 1 (min-instances)" in dry.log_path.read_text()
        await wait_for(lambda: _any(backend, names), within=20.0)
        assert all(d["dry_run"] for d in await stored(backend, names))
        bucket = await backend.find(names.scaling)
        assert bucket is not None and await bucket.get("scaling/reactive") is None
    finally:
        dry.stop()


async def _any(backend: NatsBackend, names: ControlNames) -> bool:
    return bool(await stored(backend, names))
