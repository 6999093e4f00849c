"""One contract suite for actuators: in memory, local ``ruvstream serve`` processes, and
Kubernetes (the real client against a replay of recorded API answers)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import jsonschema
import pytest

from ruvstream.control.fence import StaleTokenError
from ruvstream.control.swarm import Actuator, LocalActuator, MemoryActuator

from .k8s_replay import Replay


def _kubernetes(replay: Replay, mode: str = "deployment") -> Actuator:
    from kubernetes import client

    from ruvstream.control.swarm.kubernetes import KubernetesActuator

    configuration = client.Configuration(host=replay.url)
    return KubernetesActuator(client.ApiClient(configuration), namespace="ruvstream", mode=mode)


@pytest.fixture(params=["memory", "local", "kubernetes"])
async def actuator(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Actuator]:
    if request.param == "memory":
        yield MemoryActuator()
        return
    if request.param == "local":
        local = LocalActuator(tmp_path, node_args=["--snapshot-interval", "3600"])
        try:
            yield local
        finally:
            await local.close()
        return
    replay = Replay(request.node.originalname)
    made = _kubernetes(replay)
    try:
        yield made
        replay.check_finished()
    finally:
        await made.close()
        replay.close()


async def test_scale_up_starts_instances_in_the_region(actuator: Actuator) -> None:
    assert await actuator.instances("r1") == []
    await actuator.scale_to("r1", 2, token=1)
    running = await actuator.instances("r1")
    assert len(running) == 2 and len({i.id for i in running}) == 2
    assert all(i.region == "r1" and i.address for i in running)
    assert await actuator.instances("r2") == []


async def test_scale_down_retires_the_named_instance_first(actuator: Actuator) -> None:
    await actuator.scale_to("r1", 2, token=1)
    first, second = sorted(await actuator.instances("r1"), key=lambda i: i.id)
    await actuator.scale_to("r1", 1, token=1, retire=[first.id])
    assert [i.id for i in await actuator.instances("r1")] == [second.id]


async def test_an_older_token_is_refused_and_changes_nothing(actuator: Actuator) -> None:
    await actuator.scale_to("r1", 1, token=5)
    with pytest.raises(StaleTokenError):
        await actuator.scale_to("r1", 3, token=4)
    assert len(await actuator.instances("r1")) == 1
    await actuator.scale_to("r1", 0, token=5)
    assert await actuator.instances("r1") == []


async def test_a_negative_count_is_refused(actuator: Actuator) -> None:
    with pytest.raises(ValueError):
        await actuator.scale_to("r1", -1, token=1)


async def test_knative_pins_min_and_max_scale_on_the_revision_template() -> None:
    replay = Replay("test_knative_pins_min_and_max_scale_on_the_revision_template")
    knative = _kubernetes(replay, mode="knative")
    try:
        await knative.scale_to("r1", 3, token=1)
        assert await knative.instances("r1") == []  # the new revision's pods are not up yet
        replay.check_finished()
    finally:
        await knative.close()
        replay.close()


@pytest.mark.parametrize(
    "body",
    [
        {"apiVersion": "autoscaling/v1", "kind": "Scale", "spec": {"replicas": "two"}},
        {"apiVersion": "autoscaling/v1", "kind": "Scale", "spec": {"replica": 2}},
    ],
)
def test_the_replay_refuses_bodies_the_openapi_schema_rejects(body: dict[str, object]) -> None:
    from .k8s_replay import check_schema

    with pytest.raises(jsonschema.ValidationError):
        check_schema("kubernetes", body)
