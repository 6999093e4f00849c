"""Failure injection on a scenario's timeline, and traffic per region per phase.

``plan_failures`` is pure: from a scenario's ``failures_at_min`` and
``outage_min`` it derives when each region goes down and comes back, in
local seconds. Failure ``i`` takes down region ``i`` of the deployment's
list, cycling over all but the last region, which always survives, so a
run always has somewhere to fail over to. ``FailureInjector`` carries the
plan out against a ``Failable`` deployment while the load runs, and
reads the router's per-region answer counts at every event, so the
result shows where traffic went in each phase.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from dataclasses import asdict, dataclass, field
from typing import Any, Protocol

import httpx

from ruvstream.bench.scenarios import LocalShape
from ruvstream.bench.scrape import Sample, scrape_once, total

__all__ = ["Failable", "FailureEvent", "FailureInjector", "plan_failures", "region_counts"]

ROUTER_REQUESTS = "ruvstream_router_requests_total"


class Failable(Protocol):
    """A deployment whose regions can be taken down and brought back (blocking calls)."""

    @property
    def regions(self) -> tuple[str, ...]: ...

    @property
    def url(self) -> str: ...

    def fail_region(self, region: str) -> None: ...

    def recover_region(self, region: str) -> None: ...


@dataclass(frozen=True)
class FailureEvent:
    """``at`` is the planned offset (s); ``started``/``done`` what happened, once run."""

    at: float
    action: str  # "fail" | "recover"
    region: str
    started: float | None = None
    done: float | None = None


def plan_failures(shape: LocalShape, regions: tuple[str, ...]) -> list[FailureEvent]:
    """Events sorted by time; empty when the scenario has no failures or one region."""
    if len(regions) < 2:
        return []
    scenario = shape.scenario
    per_minute = shape.seconds / scenario.minutes
    events: list[FailureEvent] = []
    for i, minute in enumerate(scenario.failures_at_min):
        region = regions[i % (len(regions) - 1)]
        events.append(FailureEvent(minute * per_minute, "fail", region))
        back = minute + scenario.outage_min
        if scenario.outage_min > 0 and back < scenario.minutes:
            events.append(FailureEvent(back * per_minute, "recover", region))
    return sorted(events, key=lambda e: (e.at, e.action != "recover"))


def region_counts(sample: Sample, regions: tuple[str, ...]) -> dict[str, float]:
    """Successful (2xx) answers the router has served from each region so far."""
    return {r: total(sample, ROUTER_REQUESTS, region=r, status="2xx") for r in regions}


@dataclass
class FailureInjector:
    """Runs the plan from ``start`` (perf_counter); records events and phase counts."""

    deployment: Failable
    plan: list[FailureEvent]
    events: list[FailureEvent] = field(default_factory=list)
    marks: list[tuple[float, str, dict[str, float]]] = field(default_factory=list)

    async def run(self, start: float) -> None:
        async with httpx.AsyncClient() as client:
            await self._mark(client, start, "start")
            for event in self.plan:
                await asyncio.sleep(max(0.0, start + event.at - time.perf_counter()))
                began = time.perf_counter() - start
                await self._mark(client, start, f"{event.action} {event.region}")
                act = self.deployment.fail_region
                if event.action == "recover":
                    act = self.deployment.recover_region
                await asyncio.to_thread(act, event.region)
                done = time.perf_counter() - start
                self.events.append(FailureEvent(event.at, event.action, event.region, began, done))

    async def finish(self, start: float) -> None:
        async with httpx.AsyncClient() as client:
            await self._mark(client, start, "end")

    async def _mark(self, client: httpx.AsyncClient, start: float, label: str) -> None:
        counts: dict[str, float] = {}
        with contextlib.suppress(httpx.HTTPError):
            counts = region_counts(
                await scrape_once(client, self.deployment.url), self.deployment.regions
            )
        self.marks.append((time.perf_counter() - start, label, counts))

    def to_json(self) -> dict[str, Any]:
        """``events`` as run, and ``phases``: answers per region between consecutive marks."""
        phases = []
        for (t0, label, c0), (t1, _, c1) in zip(self.marks, self.marks[1:], strict=False):
            served = {r: c1.get(r, 0.0) - c0.get(r, 0.0) for r in self.deployment.regions}
            phases.append({"from": t0, "to": t1, "after": label, "served": served})
        return {"events": [asdict(e) for e in self.events], "phases": phases}
