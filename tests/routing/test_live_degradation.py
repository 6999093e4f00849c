"""Degradation, live: a router process applies the plans the control plane's port sends."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from ruvstream.control.scaling import (
    LADDER,
    DegradationLevel,
    DegradationPlan,
    HttpDegradationPort,
    StaleFencingTokenError,
)
from ruvstream.testing import RouterProcess

from .conftest import StartNode, keys_file


def plan(level: DegradationLevel, sequence: int, token: int = 7) -> DegradationPlan:
    return DegradationPlan(LADDER[level], "test", 1.3, 1.0, sequence, token)


async def statuses(client: httpx.AsyncClient, url: str, key: str, n: int) -> list[httpx.Response]:
    return [await client.get(url + "/v1/collections", headers={"x-api-key": key}) for _ in range(n)]


@pytest.fixture
def router(start_node: StartNode, tmp_path: Path) -> tuple[RouterProcess, dict[str, str]]:
    node = start_node("us-east1", "e1")
    path, keys = keys_file(tmp_path)
    process = RouterProcess(
        tmp_path / "router",
        [(node.region, node.url, str(node.node_id))],
        node.region,
        args=("--keys-file", str(path)),
    )
    process.start()
    yield process, keys  # type: ignore[misc]
    process.stop()


async def test_major_sheds_free_and_serves_standard_and_none_recovers(
    router: tuple[RouterProcess, dict[str, str]],
) -> None:
    process, keys = router
    port = HttpDegradationPort(process.url)
    async with httpx.AsyncClient(timeout=10) as client:
        assert all(
            r.status_code == 200 for r in await statuses(client, process.url, keys["free"], 6)
        )

        await port.apply(plan(DegradationLevel.MAJOR, 1))
        free = await statuses(client, process.url, keys["free"], 20)
        shed = [r for r in free if r.status_code == 503]
        assert len(shed) == 10  # shed_share 0.5: every second request
        assert all(int(r.headers["retry-after"]) >= 1 for r in shed)
        assert shed[0].json()["error"]["code"] == "unavailable"
        standard = await statuses(client, process.url, keys["standard"], 20)
        assert [r.status_code for r in standard] == [200] * 20

        state = (await client.get(process.url + "/admin/degradation")).json()
        assert state["level"] == "major" and state["sequence"] == 1
        assert state["effective"]["free"]["max_connections"] == 80  # 100 x 0.8
        assert state["effective"]["standard"]["max_connections"] == 900
        assert state["effective"]["premium"]["shed_at"] is None
        assert state["effective"]["free"]["shed"] == 10
        metrics = (await client.get(process.url + "/metrics")).text
        assert "ruvstream_router_degradation_level 2.0" in metrics
        assert 'ruvstream_router_rejected_total{reason="degraded",tier="free"} 10.0' in metrics

        await port.apply(plan(DegradationLevel.NONE, 2))
        free = await statuses(client, process.url, keys["free"], 20)
        assert [r.status_code for r in free] == [200] * 20
        state = (await client.get(process.url + "/admin/degradation")).json()
        assert state["level"] == "none" and state["effective"]["free"]["max_connections"] == 100
    await port.aclose()


async def test_critical_closes_free_and_halves_standard(
    router: tuple[RouterProcess, dict[str, str]],
) -> None:
    process, keys = router
    port = HttpDegradationPort(process.url)
    await port.apply(plan(DegradationLevel.CRITICAL, 1))
    async with httpx.AsyncClient(timeout=10) as client:
        free = await statuses(client, process.url, keys["free"], 5)
        assert [r.status_code for r in free] == [503] * 5
        premium = await statuses(client, process.url, keys["premium"], 5)
        assert [r.status_code for r in premium] == [200] * 5
        state = (await client.get(process.url + "/admin/degradation")).json()
        assert state["effective"]["standard"]["max_connections"] == 500
    await port.aclose()


async def test_fencing_and_bad_plans(router: tuple[RouterProcess, dict[str, str]]) -> None:
    process, _ = router
    port = HttpDegradationPort(process.url)
    await port.apply(plan(DegradationLevel.MAJOR, 5, token=9))
    await port.apply(plan(DegradationLevel.NONE, 4, token=9))  # superseded: not an error
    with pytest.raises(StaleFencingTokenError) as stale:
        await port.apply(plan(DegradationLevel.NONE, 6, token=8))
    assert stale.value.highest == 9
    async with httpx.AsyncClient(timeout=10) as client:
        url = process.url + "/admin/degradation"
        state = (await client.get(url)).json()
        assert state["level"] == "major" and state["sequence"] == 5
        not_json = await client.post(url, content=b"{nope")
        assert not_json.status_code == 400
        assert not_json.json()["error"]["code"] == "invalid_json"
        body = plan(DegradationLevel.MINOR, 7, token=9).to_body()
        del body["tiers"]
        missing = await client.post(url, json=body)
        assert missing.status_code == 400 and "tiers" in missing.json()["error"]["message"]
        body = plan(DegradationLevel.MINOR, 7, token=9).to_body()
        body["tiers"]["free"]["shed_share"] = 2
        assert (await client.post(url, json=body)).status_code == 400
        assert (await client.get(url)).json()["level"] == "major"  # bad plans change nothing
        assert (await client.get(process.url + "/admin/nothing")).status_code == 404
    await port.aclose()
