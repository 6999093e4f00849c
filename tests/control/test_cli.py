"""``ruvstream control`` and ``cluster status --nats-url``: status as JSON from any
directory, task submission, option parsing."""

from __future__ import annotations

import asyncio
import contextlib
import json
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from ruvstream.cli.main import main
from ruvstream.control.cli import parse_region
from ruvstream.control.swarm import RegionBounds

from .conftest import NATS_URL, unique


def test_regions_parse_as_min_max_or_a_fixed_count() -> None:
    assert parse_region("us-east1=1:4") == ("us-east1", RegionBounds(1, 4))
    assert parse_region("eu=2") == ("eu", RegionBounds(2, 2))
    for bad in ("us-east1", "=1:2", "r=4:1", "r=a:b"):
        with pytest.raises(click.BadParameter, match="REGION=MIN:MAX"):
            parse_region(bad)


def test_autoscale_needs_regions_and_an_actuator_and_is_the_only_scaler() -> None:
    runner = CliRunner()
    both = runner.invoke(
        main,
        ["control", "--autoscale", "--scale-up", "10", "--region", "r1=1:2", "--actuator",
         "memory"],
    )  # fmt: skip
    assert both.exit_code == 2 and "choose one" in both.output
    bare = runner.invoke(main, ["control", "--autoscale"])
    assert bare.exit_code == 2 and "--region and an --actuator" in bare.output


def test_the_router_needs_nodes_or_a_registry() -> None:
    result = CliRunner().invoke(main, ["router", "--port", "0"])
    assert result.exit_code != 0 and "--registry-nats-url" in result.output


@pytest.mark.nats
def test_status_and_submit_from_any_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    namespace = unique("cli")
    runner = CliRunner()
    args = ["--nats-url", NATS_URL, "--namespace", namespace]
    try:
        empty = runner.invoke(main, ["control", "status", "--json", *args])
        assert empty.exit_code == 0, empty.output
        body = json.loads(empty.output)
        assert body["leader"] is None and body["nodes"] == [] and body["tasks"]["total"] == 0
        submitted = runner.invoke(
            main, ["control", "submit", "snapshot", "--region", "r1", "--priority", "5", *args]
        )
        assert submitted.exit_code == 0 and submitted.output.startswith("task-")
        bad = runner.invoke(main, ["control", "submit", "snapshot", "--payload", "[1", *args])
        assert bad.exit_code != 0
        # `cluster status` reads the same registry: one view, two commands.
        control = json.loads(runner.invoke(main, ["control", "status", "--json", *args]).output)
        cluster = runner.invoke(main, ["cluster", "status", "--json", *args])
        assert cluster.exit_code == 0, cluster.output
        assert json.loads(cluster.output) == control
        people = runner.invoke(main, ["cluster", "status", *args])
        assert people.output.splitlines() == ["leader: none", "tasks: none"]
        assert list(tmp_path.iterdir()) == []  # nothing written where it ran
    finally:
        asyncio.run(_remove(namespace))


async def _remove(namespace: str) -> None:
    from ruvstream.control.names import ControlNames
    from ruvstream.control.store.jetstream import connect_nats

    names = ControlNames(namespace)
    client = await connect_nats(NATS_URL)
    js = client.jetstream()
    for stream in (names.queue_stream, names.dead_stream):
        with contextlib.suppress(Exception):  # absent is fine
            await js.delete_stream(stream)
    await client.drain()
