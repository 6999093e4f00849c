"""Starting a ruvstream process on loopback and waiting until it serves.

Every process kind (node, router) writes its bound port to ``--port-file``
once listening and answers ``/ready`` once it can serve; these helpers wait
for both, and report the process's log tail when it dies on the way.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import time
from collections.abc import Sequence
from pathlib import Path

import httpx

__all__ = ["START_TIMEOUT", "await_port", "await_ready", "launch", "stop"]

START_TIMEOUT = 60.0


def launch(
    command: Sequence[str], log_path: Path, env: dict[str, str] | None = None
) -> subprocess.Popen[bytes]:
    with log_path.open("ab") as log:
        return subprocess.Popen(
            list(command),
            stdout=log,
            stderr=subprocess.STDOUT,
            env={**os.environ, **(env or {})},
        )


def _check_alive(process: subprocess.Popen[bytes], log_path: Path, deadline: float) -> None:
    if process.poll() is not None:
        tail = log_path.read_text()[-3000:] if log_path.exists() else ""
        raise RuntimeError(f"{log_path.stem} exited with {process.returncode}:\n{tail}")
    if time.monotonic() > deadline:
        raise TimeoutError(f"{log_path.stem} was not ready within {START_TIMEOUT}s")


def await_port(
    process: subprocess.Popen[bytes], port_file: Path, log_path: Path, deadline: float
) -> int:
    while not (port_file.exists() and port_file.read_text().strip()):
        _check_alive(process, log_path, deadline)
        time.sleep(0.02)
    return int(port_file.read_text())


def await_ready(
    process: subprocess.Popen[bytes], url: str, log_path: Path, deadline: float
) -> None:
    while True:
        _check_alive(process, log_path, deadline)
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(f"{url}/ready", timeout=1.0).status_code == 200:
                return
        time.sleep(0.02)


def stop(process: subprocess.Popen[bytes] | None, timeout: float = 30.0) -> None:
    """SIGTERM (which drains), then SIGKILL if it does not end in time."""
    if process is None or process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=timeout)
