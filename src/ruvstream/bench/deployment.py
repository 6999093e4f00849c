"""A bench deployment of several regions behind one router, on this machine.

N regions x M ``ruvstream serve`` processes (each ``--region R``) and one
``ruvstream router`` process in front; the load generator targets the
router. Nodes are independent (no replication): each is loaded with the
whole collection directly, so every region can answer every query and a
failover measures routing, not replication lag. Killed nodes restart on
their own data dir and port and recover the collection from their WAL and
snapshot.

Invariant: the last region is never failed by ``failures.plan_failures``;
the router's default region (where anonymous clients are sent) is the
first, so a failure there visibly moves traffic elsewhere.
"""

from __future__ import annotations

import asyncio
import contextlib
from pathlib import Path
from types import TracebackType

from ruvstream.bench import datasets
from ruvstream.bench.target import prepare
from ruvstream.devstack import NodeProcess, RouterProcess, running_node

__all__ = ["REGION_NAMES", "RegionalDeployment"]

# Known to the router's geography; nearest-first from the first.
REGION_NAMES = ("us-east1", "us-west1", "europe-west1", "asia-east1")


class RegionalDeployment:
    """Context manager; ``provides`` is what the runner may check scenarios against."""

    provides = frozenset({"regions", "router", "failures"})

    def __init__(
        self, work_dir: Path, regions: int = 2, nodes_per_region: int = 1, mode: str = "kill"
    ) -> None:
        if not 2 <= regions <= len(REGION_NAMES) or nodes_per_region < 1:
            raise ValueError(f"regions must be 2..{len(REGION_NAMES)}, nodes at least 1")
        if mode not in ("kill", "pause"):
            raise ValueError("mode is kill (SIGKILL, restart) or pause (SIGSTOP, SIGCONT)")
        self.work_dir = work_dir
        self.regions: tuple[str, ...] = REGION_NAMES[:regions]
        self.nodes_per_region = nodes_per_region
        self.mode = mode
        self.nodes: dict[str, list[NodeProcess]] = {r: [] for r in self.regions}
        self.router: RouterProcess | None = None
        self._stack = contextlib.ExitStack()

    @property
    def url(self) -> str:
        assert self.router is not None, "deployment not started"
        return self.router.url

    def __enter__(self) -> RegionalDeployment:
        try:
            for region in self.regions:
                for i in range(self.nodes_per_region):
                    name = f"{region}-{i}"
                    node = running_node(self.work_dir / name, region=region, node_id=name)
                    self.nodes[region].append(self._stack.enter_context(node))
            specs = [(r, n.url, str(n.node_id)) for r in self.regions for n in self.nodes[r]]
            self.router = RouterProcess(self.work_dir / "router", specs, self.regions[0])
            self._stack.callback(self.router.stop)
            self.router.start()
        except BaseException:
            self._stack.close()
            raise
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._stack.close()

    async def load(self, collection: str, data: datasets.Dataset) -> None:
        """Create and fill the collection on every node (nodes do not replicate here)."""
        every = [n for nodes in self.nodes.values() for n in nodes]
        await asyncio.gather(*(prepare(n.url, collection, data) for n in every))

    def fail_region(self, region: str) -> None:
        for node in self.nodes[region]:
            if self.mode == "kill":
                node.kill()
            else:
                node.pause()

    def recover_region(self, region: str) -> None:
        for node in self.nodes[region]:
            if self.mode == "kill":
                node.start()
            else:
                node.resume()
