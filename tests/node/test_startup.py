"""``ruvstream serve`` as an operator sees it start, or fail to: real processes, real sockets."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from ruvstream.testing import running_node

SERVE = [sys.executable, "-m", "ruvstream", "serve", "--host", "127.0.0.1"]


@pytest.fixture
def busy_port() -> Iterator[int]:
    """A port another program is listening on."""
    with socket.create_server(("127.0.0.1", 0)) as holder:
        yield holder.getsockname()[1]


def _fails(command: list[str]) -> list[str]:
    """Run a command that must not start; returns its stderr lines."""
    done = subprocess.run(command, capture_output=True, timeout=120, check=False)
    assert done.returncode == 1, done.stderr.decode()
    assert b"Traceback" not in done.stderr + done.stdout
    return done.stderr.decode().strip().splitlines()


def test_a_busy_port_is_one_line_and_exit_1_before_the_data_dir_is_touched(
    tmp_path: Path, busy_port: int
) -> None:
    data_dir = tmp_path / "node"
    lines = _fails([*SERVE, "--port", str(busy_port), "--data-dir", str(data_dir)])
    assert lines == [
        f"ruvstream serve: cannot listen on 127.0.0.1:{busy_port}: address already in use"
    ]
    assert not (data_dir / "LOCK").exists()  # refused before the node opened its data dir


def test_a_data_dir_in_use_is_one_line_naming_the_holder(tmp_path: Path) -> None:
    with running_node(tmp_path / "node") as first:
        lines = _fails([*SERVE, "--port", "0", "--data-dir", str(tmp_path / "node")])
    assert lines == [
        f"ruvstream serve: data dir {tmp_path / 'node'} is in use by another ruvstream node "
        f"(pid {first.pid})"
    ]


def test_listening_is_an_info_line_shown_at_the_default_log_level(tmp_path: Path) -> None:
    port_file, log = tmp_path / "port", tmp_path / "node.log"
    command = [*SERVE, "--port", "0", "--port-file", str(port_file)]
    command += ["--data-dir", str(tmp_path / "node"), "--node-id", "n-1"]
    with log.open("wb") as out:
        process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 60
        while "listening on" not in log.read_text():
            assert process.poll() is None, log.read_text()
            assert time.monotonic() < deadline, log.read_text()
            time.sleep(0.05)
        port = int(port_file.read_text())
        expected = (
            f"INFO ruvstream.api.server: ruvstream node n-1 listening on http://127.0.0.1:{port}"
        )
        assert expected in log.read_text()
    finally:
        process.terminate()
        assert process.wait(timeout=60) == 0
