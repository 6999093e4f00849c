"""The router as a subprocess (``ruvstream router``), for bench deployments.

A separate process, not an in-process app: the router then competes with
the nodes for CPU as it would in production, and never with the load
generator's event loop, whose timing the latency figures depend on. The
bench speaks to it only over its public HTTP endpoints.
"""

from __future__ import annotations

import contextlib
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import httpx

__all__ = ["RouterProcess"]

START_TIMEOUT = 60.0


@dataclass
class RouterProcess:
    """``nodes`` are ``(region, url, name)``; clients with no location go to ``default_region``."""

    work_dir: Path
    nodes: Sequence[tuple[str, str, str]]
    default_region: str
    probe_interval: float = 0.5
    port: int = 0
    process: subprocess.Popen[bytes] | None = field(default=None, repr=False)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def command(self, port_file: Path) -> list[str]:
        # premium: anonymous bench traffic is never rate-limited or shed by tier,
        # so what the run measures is failover, not admission policy.
        command = [sys.executable, "-m", "ruvstream", "router", "--host", "127.0.0.1"]
        command += ["--port", "0", "--port-file", str(port_file)]
        command += ["--default-region", self.default_region, "--anonymous-tier", "premium"]
        command += ["--probe-interval", str(self.probe_interval), "--log-level", "warning"]
        for region, url, name in self.nodes:
            command += ["--node", f"{region}={url};name={name}"]
        return command

    def start(self) -> None:
        self.work_dir.mkdir(parents=True, exist_ok=True)
        port_file = self.work_dir / "router.port"
        port_file.unlink(missing_ok=True)
        log = (self.work_dir / "router.log").open("ab")
        with log:
            self.process = subprocess.Popen(
                self.command(port_file), stdout=log, stderr=subprocess.STDOUT
            )
        deadline = time.monotonic() + START_TIMEOUT
        while not (port_file.exists() and port_file.read_text().strip()):
            self._check(deadline)
        self.port = int(port_file.read_text())
        while True:
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"{self.url}/ready", timeout=1.0).status_code == 200:
                    return
            self._check(deadline)

    def _check(self, deadline: float) -> None:
        assert self.process is not None
        if self.process.poll() is not None:
            tail = (self.work_dir / "router.log").read_text()[-3000:]
            raise RuntimeError(f"router exited with {self.process.returncode}:\n{tail}")
        if time.monotonic() > deadline:
            raise TimeoutError(f"router not ready within {START_TIMEOUT}s")
        time.sleep(0.02)

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=30)
