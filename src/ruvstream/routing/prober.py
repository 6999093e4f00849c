"""Active health checks: probe every node's ``/health`` on a fixed interval.

A probe that fails (no answer within ``probe_timeout``, a non-200 answer, or
a node that says it is loading or draining) marks the node down; the first
probe that succeeds marks it up again and refreshes its load report, which
feeds adaptive scores, spillover and shedding. Probes run concurrently, so
one hung node does not delay the others. Passive results (breakers, outlier
ejection) are recorded by the proxy paths; the outlier sweep runs here.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

import aiohttp

from .node import HealthReport, Node
from .router import Router

__all__ = ["Prober"]

log = logging.getLogger(__name__)


class Prober:
    def __init__(self, router: Router, sweep_every: int = 10) -> None:
        self.router = router
        self.rounds = 0
        self._sweep_every = sweep_every
        self._task: asyncio.Task[None] | None = None

    async def probe(self, node: Node) -> None:
        settings = self.router.settings
        timeout = aiohttp.ClientTimeout(total=settings.probe_timeout)
        try:
            async with self.router.session.get(node.url + "/health", timeout=timeout) as response:
                body = await response.json() if response.status == 200 else None
        except (aiohttp.ClientError, TimeoutError, ValueError):
            body = None
        if not isinstance(body, dict):
            if node.healthy:
                log.warning("node %s failed its health probe", node.name)
            node.healthy = False
            node.probe_failures += 1
            return
        report = HealthReport.from_json(body)
        node.report = report
        if not node.healthy and report.ready:
            log.info("node %s is back", node.name)
        node.healthy = report.ready

    async def probe_all(self) -> None:
        await asyncio.gather(*(self.probe(node) for node in self.router.table.nodes))
        self.rounds += 1
        if self.rounds % self._sweep_every == 0:
            self.router.outliers.sweep()

    async def _run(self) -> None:
        while True:
            await self.probe_all()
            await asyncio.sleep(self.router.settings.probe_interval)

    def start(self) -> None:
        self._task = asyncio.ensure_future(self._run())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
