"""The router as a subprocess (``ruvstream router``) for dev tools, benchmarks and tests.

A separate process, not an in-process app: the router then competes with the
nodes for CPU as it would in production, and never with a load generator's
event loop, whose timing latency figures depend on.
"""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from ruvstream.devstack.process import START_TIMEOUT, await_port, await_ready, launch, stop

__all__ = ["RouterProcess"]


@dataclass
class RouterProcess:
    """``nodes`` are ``(region, url, name)``; clients with no location go to ``default_region``.

    Anonymous traffic is premium, so nothing is rate-limited or shed by tier
    unless ``args`` says otherwise.
    """

    work_dir: Path
    nodes: Sequence[tuple[str, str, str]]
    default_region: str
    probe_interval: float = 0.5
    args: Sequence[str] = ()
    port: int = 0
    process: subprocess.Popen[bytes] | None = field(default=None, repr=False)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def command(self, port_file: Path) -> list[str]:
        command = [sys.executable, "-m", "ruvstream", "router", "--host", "127.0.0.1"]
        command += ["--port", "0", "--port-file", str(port_file)]
        command += ["--default-region", self.default_region, "--anonymous-tier", "premium"]
        command += ["--probe-interval", str(self.probe_interval), "--log-level", "warning"]
        for region, url, name in self.nodes:
            command += ["--node", f"{region}={url};name={name}"]
        return [*command, *self.args]

    def start(self) -> None:
        self.work_dir.mkdir(parents=True, exist_ok=True)
        port_file = self.work_dir / "router.port"
        port_file.unlink(missing_ok=True)
        log_path = self.work_dir / "router.log"
        self.process = launch(self.command(port_file), log_path)
        deadline = time.monotonic() + START_TIMEOUT
        self.port = await_port(self.process, port_file, log_path, deadline)
        await_ready(self.process, self.url, log_path, deadline)

    def stop(self) -> None:
        stop(self.process)
