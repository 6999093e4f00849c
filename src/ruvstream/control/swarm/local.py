"""The local actuator: ``ruvstream serve`` processes on this machine, one data dir each.

A new instance gets the id ``<region>-<n>`` (its node id in the registry),
a fresh data dir under ``work_dir``, port 0 (the bound port is read from its
port file) and the control plane's flags, so its agent joins the registry by
itself. Given a ``peer`` (a serving node's URL) it first installs a fresh
snapshot of that peer (``replication.bootstrap``) and then follows the
replication stream from the snapshot's position. Stopping is SIGTERM (the
node marks itself draining, drains, snapshots and leaves), then SIGKILL
after ``stop_timeout``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from .actuator import FencedActuator, Instance, plan_removals

__all__ = ["LocalActuator", "LocalNode"]

log = logging.getLogger(__name__)


@dataclass
class LocalNode:
    instance: Instance
    data_dir: Path
    process: asyncio.subprocess.Process | None = field(default=None, repr=False)


class LocalActuator(FencedActuator):
    def __init__(
        self,
        work_dir: Path,
        *,
        node_args: Sequence[str] = (),
        peer_key: str | None = None,
        control_nats_url: str | None = None,
        namespace: str = "ruvstream",
        start_timeout: float = 60.0,
        stop_timeout: float = 30.0,
    ) -> None:
        super().__init__()
        self.work_dir = work_dir
        self.node_args = list(node_args)
        self.peer_key = peer_key  # an admin key of keyed peers, for snapshot bootstraps
        self.control_nats_url = control_nats_url
        self.namespace = namespace
        self.start_timeout = start_timeout
        self.stop_timeout = stop_timeout
        self._nodes: dict[str, list[LocalNode]] = {}
        self._serial = 0
        self._lock = asyncio.Lock()

    async def instances(self, region: str) -> list[Instance]:
        nodes = self._nodes.get(region, [])
        nodes[:] = [n for n in nodes if n.process is not None and n.process.returncode is None]
        return [n.instance for n in nodes]

    async def _resize(
        self, region: str, count: int, retire: tuple[str, ...], peer: str | None
    ) -> None:
        async with self._lock:
            await self.instances(region)
            nodes = self._nodes.setdefault(region, [])
            keep = {i.id for i in plan_removals([n.instance for n in nodes], count, retire)}
            leaving = [n for n in nodes if n.instance.id not in keep]
            nodes[:] = [n for n in nodes if n.instance.id in keep]
            await asyncio.gather(*(self._stop(n) for n in leaving))
            ids = [self._next_id(region) for _ in range(count - len(nodes))]
            started = await asyncio.gather(
                *(self._start(region, node_id, peer) for node_id in ids), return_exceptions=True
            )
            nodes.extend(n for n in started if isinstance(n, LocalNode))
            failures = [n for n in started if isinstance(n, BaseException)]
            if failures:
                raise failures[0]

    def _command(self, region: str, node_id: str, data_dir: Path) -> list[str]:
        command = [sys.executable, "-m", "ruvstream", "serve", "--data-dir", str(data_dir)]
        command += ["--host", "127.0.0.1", "--port", "0", "--port-file", str(data_dir / "port")]
        command += ["--region", region, "--node-id", node_id, "--log-level", "warning"]
        if self.control_nats_url:
            command += ["--control-nats-url", self.control_nats_url]
            command += ["--control-namespace", self.namespace]
        return [*command, *self.node_args]

    def _next_id(self, region: str) -> str:
        self._serial += 1
        while (self.work_dir / f"{region}-{self._serial}").exists():  # a former run's
            self._serial += 1
        node_id = f"{region}-{self._serial}"
        (self.work_dir / node_id).mkdir(parents=True)
        return node_id

    async def _start(self, region: str, node_id: str, peer: str | None) -> LocalNode:
        """Start one node (new ones start side by side); bootstrap it from ``peer`` first."""
        data_dir = self.work_dir / node_id
        if peer is not None:
            from ruvstream.replication.bootstrap import bootstrap_from_peer

            await asyncio.to_thread(bootstrap_from_peer, peer, data_dir, api_key=self.peer_key)
        log_file = (data_dir / "node.log").open("ab")
        try:
            process = await asyncio.create_subprocess_exec(
                *self._command(region, node_id, data_dir), stdout=log_file, stderr=log_file
            )
        finally:
            log_file.close()
        node = LocalNode(Instance(node_id, region), data_dir, process)
        try:
            port = await self._await_port(node)
            address = f"http://127.0.0.1:{port}"
            await self._await_ready(node, address)
        except BaseException:
            await self._stop(node)
            raise
        node.instance = Instance(node_id, region, address)
        log.info("started %s at %s%s", node_id, address, f" from {peer}" if peer else "")
        return node

    async def _await_port(self, node: LocalNode) -> int:
        port_file = node.data_dir / "port"
        deadline = time.monotonic() + self.start_timeout
        while not (port_file.exists() and port_file.read_text().strip()):
            self._check(node, deadline)
            await asyncio.sleep(0.05)
        return int(port_file.read_text())

    async def _await_ready(self, node: LocalNode, address: str) -> None:
        deadline = time.monotonic() + self.start_timeout
        async with httpx.AsyncClient(timeout=2.0) as client:
            while True:
                self._check(node, deadline)
                with contextlib.suppress(httpx.HTTPError):
                    if (await client.get(address + "/ready")).status_code == 200:
                        return
                await asyncio.sleep(0.05)

    def _check(self, node: LocalNode, deadline: float) -> None:
        assert node.process is not None
        if node.process.returncode is not None:
            log_path = node.data_dir / "node.log"
            tail = log_path.read_text()[-2000:] if log_path.exists() else ""
            raise RuntimeError(f"{node.instance.id} exited with {node.process.returncode}: {tail}")
        if time.monotonic() > deadline:
            raise TimeoutError(f"{node.instance.id} was not ready within {self.start_timeout}s")

    async def _stop(self, node: LocalNode) -> None:
        process = node.process
        if process is None or process.returncode is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            process.send_signal(signal.SIGTERM)
        try:
            await asyncio.wait_for(process.wait(), timeout=self.stop_timeout)
        except TimeoutError:
            with contextlib.suppress(ProcessLookupError):
                process.kill()
            await process.wait()
        log.info("stopped %s (exit %s)", node.instance.id, process.returncode)

    async def close(self) -> None:
        """Stop every node this actuator started."""
        async with self._lock:
            everyone = [n for nodes in self._nodes.values() for n in nodes]
            self._nodes.clear()
            await asyncio.gather(*(self._stop(n) for n in everyone))
