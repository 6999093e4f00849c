"""Real control-plane processes for the live tests: ``ruvstream control`` members."""

from __future__ import annotations

import signal
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

from ruvstream.devstack.process import launch, stop


@dataclass
class ControlProcess:
    work_dir: Path
    member_id: str
    namespace: str
    nats_url: str
    args: list[str] = field(default_factory=list)
    process: subprocess.Popen[bytes] | None = field(default=None, repr=False)

    @property
    def log_path(self) -> Path:
        return self.work_dir / f"{self.member_id}.log"

    def start(self) -> None:
        self.work_dir.mkdir(parents=True, exist_ok=True)
        command = [sys.executable, "-m", "ruvstream", "control", "--nats-url", self.nats_url]
        command += ["--namespace", self.namespace, "--member-id", self.member_id]
        command += [*self.args, "--log-level", "info"]
        self.process = launch(command, self.log_path)

    def kill(self) -> None:
        """SIGKILL: no resignation, the lease must run out."""
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(timeout=30)

    def stop(self) -> None:
        stop(self.process)

    def terms(self) -> int:
        """How many times this member took the lead (from its log)."""
        return (
            self.log_path.read_text().count(" leads with token ") if self.log_path.exists() else 0
        )
