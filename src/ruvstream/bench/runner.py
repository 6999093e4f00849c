"""Run one scenario end to end against a node and assemble its result.

Order: check the scenario's needs (against what the deployment, if any,
provides), load the dataset (ground truth from the cache), prepare the
collection (on every node of a deployment, else through ``url``), then
drive the load while scraping ``/metrics``; finally set the client's counts beside the server's,
compute recall, analyse, and write JSON, CSV, Markdown and the dashboard
into ``out_dir/<run id>/``. With a deployment the load targets its router
and a ``FailureInjector`` carries out the scenario's failures meanwhile;
the result then holds ``failures`` (events as run, answers per region per
phase).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import time
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any, Protocol

import psutil

from ruvstream.bench import datasets
from ruvstream.bench.analysis import analyze
from ruvstream.bench.failures import Failable, FailureInjector, plan_failures
from ruvstream.bench.histograms import summarize
from ruvstream.bench.loadgen import LoadGenerator, LoadResult, Progress, Workload
from ruvstream.bench.report import write_outputs
from ruvstream.bench.scenarios import LocalScale, LocalShape, Scenario, get_scenario
from ruvstream.bench.scrape import Scraper, total
from ruvstream.bench.streams import StreamPool, raise_file_limit
from ruvstream.bench.target import check_loopback, prepare
from ruvstream.bench.transports import make, speaks_http2

__all__ = ["AVAILABLE", "Deployment", "RunConfig", "ScenarioUnavailableError", "execute", "run"]

# What this deployment can provide today; scenarios needing more are refused.
AVAILABLE: frozenset[str] = frozenset({"spawn"})


class Deployment(Failable, Protocol):
    """Regions and a router started for the run (``deployment.RegionalDeployment``)."""

    provides: frozenset[str]

    async def load(self, collection: str, data: datasets.Dataset) -> None: ...


class ScenarioUnavailableError(RuntimeError):
    """The scenario needs pieces (regions, router, failure injection) not available here."""


@dataclass(frozen=True)
class RunConfig:
    scenario: str
    url: str
    out_dir: Path = Path("bench-results")
    dataset: str = "glove-10k"
    queries: int = 1000
    k: int = 10
    scale: LocalScale = field(default_factory=LocalScale)
    protocol: str | None = None
    closed_workers: int = 0
    poisson: bool = True
    max_count: int | None = None
    streams: int | None = None
    rate: float | None = None
    price_per_hour: float = 0.50
    collection: str = "bench"
    region: str = "local"
    timeout: float = 10.0
    max_inflight: int = 20_000
    hold_streams: bool = True
    spawned: bool = False
    force: bool = False
    seed: int = 0


def _scenario(config: RunConfig, extra: frozenset[str] = frozenset()) -> Scenario:
    scenario = get_scenario(config.scenario)
    have = (AVAILABLE if config.spawned else AVAILABLE - {"spawn"}) | extra
    missing = [r for r in scenario.requires if r not in have]
    if missing and not config.force:
        raise ScenarioUnavailableError(
            f"{scenario.name} needs {', '.join(missing)}, not available in this deployment"
        )
    if config.protocol:
        scenario = replace(scenario, protocol=config.protocol)
    return scenario


def _shape(scenario: Scenario, config: RunConfig) -> LocalShape:
    shape = LocalShape(scenario, config.scale)
    if config.streams is not None:
        object.__setattr__(shape, "base_streams", config.streams)
    if config.rate is not None:
        object.__setattr__(shape, "base_rate", config.rate)
    return shape


async def execute(
    config: RunConfig, progress: Progress | None = None, deployment: Deployment | None = None
) -> dict[str, Any]:
    """Run the scenario and return the result dictionary (not yet written)."""
    if deployment is not None:
        config = replace(config, url=deployment.url)
    check_loopback(config.url)
    scenario = _scenario(config, deployment.provides if deployment else frozenset())
    shape = _shape(scenario, config)
    data = await asyncio.to_thread(datasets.load, config.dataset, config.queries, config.k)
    if deployment is not None:
        await deployment.load(config.collection, data)
    else:
        await prepare(config.url, config.collection, data)
    raise_file_limit()
    notes: list[str] = []
    if scenario.protocol == "http2" and not await speaks_http2(config.url):
        raise ScenarioUnavailableError(
            f"{scenario.name} runs over HTTP/2, and {config.url} does not answer HTTP/2 "
            "(h2c prior knowledge): start the node with `ruvstream serve --http2`"
        )
    workload = Workload(
        config.collection,
        data.queries,
        data.base,
        config.k,
        scenario.read_ratio,
        scenario.pattern,
        config.region,
        config.seed,
    )
    transport = make(scenario.protocol, config.url)
    generator = LoadGenerator(
        transport, workload, timeout=config.timeout, max_inflight=config.max_inflight
    )
    host_port = config.url.split("//", 1)[1]
    host, port = host_port.rsplit(":", 1)
    pool = StreamPool(host, int(port)) if config.hold_streams else None
    scraper = Scraper(config.url, config.region)
    stop = asyncio.Event()
    scraping = asyncio.create_task(scraper.run(stop))
    await scraper.primed.wait()  # else the first searches may land in the "before" count
    started_at = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    injector = None
    if deployment is not None:
        injector = FailureInjector(deployment, plan_failures(shape, deployment.regions))
    start = time.perf_counter()
    injecting = asyncio.create_task(injector.run(start)) if injector else None
    try:
        result = await generator.run(
            shape,
            pool=pool,
            closed_workers=config.closed_workers,
            poisson=config.poisson,
            max_count=config.max_count,
            progress=progress,
        )
    finally:
        stop.set()
        await scraping
        await transport.aclose()
        if injecting is not None and injector is not None:
            await injecting  # a recovery planned past the end still runs: nodes come back
            await injector.finish(start)
    out = assemble(config, scenario, shape, data, result, scraper, started_at)
    out["notes"] = notes
    if injector is not None and deployment is not None:
        out["failures"] = {"regions": list(deployment.regions), **injector.to_json()}
        out["analysis"] = analyze(out)
    return out


def assemble(
    config: RunConfig,
    scenario: Scenario,
    shape: LocalShape,
    data: datasets.Dataset,
    load: LoadResult,
    scraper: Scraper,
    started_at: str,
) -> dict[str, Any]:
    book = load.book
    ok, failed, dropped = book.ok, book.failed, load.dropped
    attempted = ok + failed + dropped
    memory_total = psutil.virtual_memory().total
    for sample in scraper.series:
        sample["memory_pct"] = 100.0 * sample["rss_bytes"] / memory_total
    server = scraper.to_json()
    searches = book.merged("search").get_total_count()
    hours = load.seconds / 3600.0
    summary = {
        "ok": ok,
        "failed": failed,
        "dropped": dropped,
        "scheduled": load.scheduled,
        "searches_ok": searches,
        "qps": ok / load.seconds if load.seconds else 0.0,
        "target_qps": load.scheduled / shape.seconds if load.mode == "open" else 0.0,
        "error_pct": 100.0 * (failed + dropped) / attempted if attempted else 0.0,
        "availability_pct": 100.0 * ok / attempted if attempted else 0.0,
        "latency": summarize(book.merged()),
        "recall": datasets.recall(load.answers, data.truth, config.k),
        "errors": dict(sorted(book.errors.items())),
        "streams_peak": load.streams_peak,
        "streams_planned_peak": max(
            (w["planned_streams"] for w in load.timeline.series()), default=0
        ),
        "stream_failures": load.stream_failures,
        "generator_lag_ms": summarize(load.loop_lag),
        "server_searches": total(scraper.after, "ruvstream_search_requests_total")
        - total(scraper.before, "ruvstream_search_requests_total"),
        "cost_per_million": config.price_per_hour * hours / ok * 1e6 if ok else 0.0,
    }
    result: dict[str, Any] = {
        "run_id": f"{scenario.name}-{int(time.time() * 1000)}",
        "started_at": started_at,
        "target": config.url,
        "mode": load.mode,
        "seconds": load.seconds,
        "dataset": data.name,
        "k": config.k,
        "scenario": {
            **{k: v for k, v in asdict(scenario).items() if k not in ("stages", "burst")},
            "minutes": scenario.minutes,
            "local": {
                "base_streams": shape.base_streams,
                "base_rate": shape.base_rate,
                "seconds": shape.seconds,
                "stream_scale": config.scale.stream_scale,
                "rate_scale": config.scale.rate_scale,
            },
        },
        "summary": summary,
        "latency": book.to_json(),
        "timeline": load.timeline.series(),
        "server": server,
        "config": {
            "price_per_hour": config.price_per_hour,
            "poisson": config.poisson,
            "closed_workers": config.closed_workers,
            "timeout": config.timeout,
        },
    }
    result["analysis"] = analyze(result)
    return result


def run(
    config: RunConfig, progress: Progress | None = None, deployment: Deployment | None = None
) -> tuple[dict[str, Any], Path]:
    """Execute and write the outputs; returns the result and the run directory."""
    result = asyncio.run(execute(config, progress, deployment))
    run_dir = config.out_dir / result["run_id"]
    write_outputs(result, run_dir)
    return result, run_dir
