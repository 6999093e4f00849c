"""``ruvstream cluster up`` / ``status`` as a user runs them: real processes."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from ruvstream.replication import JetStreamBus

from .conftest import NATS_URL, unique_stream

REGIONS = {"us-east1", "europe-west1", "asia-east1"}


async def _delete(stream: str) -> None:
    bus = await JetStreamBus.connect(NATS_URL, stream)
    await bus.delete_stream()
    await bus.close()


def _wait_for(path: Path, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 60
    while not path.exists():
        assert process.poll() is None, log.read_text()
        assert time.monotonic() < deadline, log.read_text()
        time.sleep(0.05)


def _replicated(client: httpx.Client, url: str) -> bool:
    for _ in range(400):
        if client.get(f"{url}/v1/collections/c/records/x").status_code == 200:
            return True
        time.sleep(0.05)
    return False


def test_status_finds_the_cluster_from_any_directory(tmp_path: Path) -> None:
    """By default the state lives under the user's state directory, not the working one."""
    env = {**os.environ, "XDG_STATE_HOME": str(tmp_path / "state")}
    (tmp_path / "here").mkdir()
    (tmp_path / "elsewhere").mkdir()
    log = tmp_path / "up.log"
    command = [sys.executable, "-m", "ruvstream", "cluster", "up", "--regions", "us-east1"]
    command += ["--nodes-per-region", "1", "--bus", "embedded"]
    with log.open("wb") as out:
        up = subprocess.Popen(
            command, stdout=out, stderr=subprocess.STDOUT, cwd=tmp_path / "here", env=env
        )
    try:
        state_file = tmp_path / "state" / "ruvstream" / "cluster" / "cluster.json"
        _wait_for(state_file, up, log)
        status_command = [sys.executable, "-m", "ruvstream", "cluster", "status", "--json"]
        for given in ([], ["--state", str(state_file)]):
            status = subprocess.run(
                [*status_command, *given],
                capture_output=True,
                check=True,
                timeout=60,
                cwd=tmp_path / "elsewhere",
                env=env,
            )
            rows = json.loads(status.stdout)
            assert [(r["node"], r["status"]) for r in rows] == [("us-east1-1", "ok")]
        up.send_signal(signal.SIGTERM)
        assert up.wait(timeout=60) == 0, log.read_text()
        assert f"endpoints in {state_file}" in log.read_text()
        assert not state_file.exists()
        assert not (tmp_path / "here" / "ruvstream-cluster").exists()
    finally:
        if up.poll() is None:
            up.kill()
            up.wait()


def test_status_without_a_cluster_says_how_to_start_one(tmp_path: Path) -> None:
    env = {**os.environ, "XDG_STATE_HOME": str(tmp_path / "state")}
    command = [sys.executable, "-m", "ruvstream", "cluster", "status"]
    done = subprocess.run(command, capture_output=True, timeout=60, env=env, check=False)
    assert done.returncode == 1
    assert "ruvstream cluster up" in done.stderr.decode()
    assert b"Traceback" not in done.stderr


@pytest.mark.nats
def test_cluster_up_serves_three_regions_and_status_shows_them(tmp_path: Path) -> None:
    stream = unique_stream("cli")
    base = tmp_path / "cluster"
    log = tmp_path / "up.log"
    command = [sys.executable, "-m", "ruvstream", "cluster", "up", "--regions", ",".join(REGIONS)]
    command += ["--nodes-per-region", "2", "--bus", "nats", "--stream", stream, "--dir", str(base)]
    with log.open("wb") as out:
        up = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT)
    try:
        state_file = base / "cluster.json"
        _wait_for(state_file, up, log)
        nodes = json.loads(state_file.read_text())["nodes"]
        assert len(nodes) == 6 and {n["region"] for n in nodes} == REGIONS
        first, last = nodes[0]["url"], nodes[-1]["url"]
        with httpx.Client(timeout=10) as client:
            assert client.put(f"{first}/v1/collections/c", json={"dim": 2}).status_code == 201
            body = {"records": [{"id": "x", "vector": [1.0, 2.0]}]}
            assert client.post(f"{first}/v1/collections/c/records", json=body).is_success
            assert _replicated(client, last)
        status = subprocess.run(
            [sys.executable, "-m", "ruvstream", "cluster", "status", "--dir", str(base), "--json"],
            capture_output=True,
            check=True,
            timeout=60,
        )
        rows = json.loads(status.stdout)
        assert [r["status"] for r in rows] == ["ok"] * 6
        assert {r["node"] for r in rows} == {n["node"] for n in nodes}
        up.send_signal(signal.SIGTERM)
        assert up.wait(timeout=60) == 0, log.read_text()
        assert not state_file.exists()
        assert "cluster stopped" in log.read_text()
    finally:
        if up.poll() is None:
            up.kill()
            up.wait()
        asyncio.run(_delete(stream))
