"""Real node processes for dev tools, benchmarks and tests: started, killed, restarted.

``running_node`` starts ``ruvstream serve`` as a subprocess on 127.0.0.1
with port 0, reads the bound port from its port file, and waits for
``/ready``. ``restart`` reuses the same data dir and port, so clients that
reconnect find the node where it was.
"""

from __future__ import annotations

import contextlib
import signal
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from ruvstream.devstack.process import START_TIMEOUT, await_port, await_ready, launch, stop

__all__ = ["NodeProcess", "running_node"]


@dataclass
class NodeProcess:
    data_dir: Path
    region: str = "local"
    node_id: str | None = None
    args: Sequence[str] = ()
    env: dict[str, str] | None = None
    port: int = 0
    process: subprocess.Popen[bytes] | None = field(default=None, repr=False)
    log_path: Path | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/v1/ws"

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def start(self) -> None:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        port_file = self.data_dir / "port"
        port_file.unlink(missing_ok=True)
        self.log_path = self.data_dir / "node.log"
        command = [
            sys.executable,
            "-m",
            "ruvstream",
            "serve",
            "--data-dir",
            str(self.data_dir),
            "--host",
            "127.0.0.1",
            "--port",
            str(self.port),
            "--port-file",
            str(port_file),
            "--region",
            self.region,
            "--log-level",
            "warning",
            *self.args,
        ]
        if self.node_id:
            command += ["--node-id", self.node_id]
        self.process = launch(command, self.log_path, self.env)
        deadline = time.monotonic() + START_TIMEOUT
        self.port = await_port(self.process, port_file, self.log_path, deadline)
        self.wait_ready(deadline)

    def wait_ready(self, deadline: float | None = None) -> None:
        assert self.process is not None and self.log_path is not None
        deadline = deadline or time.monotonic() + START_TIMEOUT
        await_ready(self.process, self.url, self.log_path, deadline)

    def kill(self) -> None:
        """SIGKILL: no drain, no flush, no snapshot."""
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=30)

    def terminate(self, timeout: float = 60.0) -> int:
        """SIGTERM and wait; returns the exit code."""
        assert self.process is not None
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        return self.process.wait(timeout=timeout)

    def restart(self) -> None:
        self.kill()
        self.start()

    def pause(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGSTOP)

    def resume(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGCONT)

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.resume()  # a paused process cannot drain
        stop(self.process)


@contextlib.contextmanager
def running_node(
    data_dir: Path,
    *,
    region: str = "local",
    node_id: str | None = None,
    args: Sequence[str] = (),
    env: dict[str, str] | None = None,
) -> Iterator[NodeProcess]:
    node = NodeProcess(data_dir, region=region, node_id=node_id, args=args, env=env)
    node.start()
    try:
        yield node
    finally:
        node.stop()
