"""ruvstream against the engines users would pick instead, same data, same machine.

For each engine: start it on loopback, load the dataset, find the smallest
``ef`` on the ladder whose recall@k reaches the target (so every engine is
measured at equal recall), then measure with the same load generator:
a closed loop of ``workers`` clients for throughput, and optionally an open
loop at ``rate`` q/s for latency at equal offered load. Ratios are
ruvstream / peer: above 1 for QPS means ruvstream serves more; below 1 for
p99 and CPU per query means ruvstream answers faster and cheaper.

Pinned (``server_cpus`` / ``client_cpus``): the engine's whole process tree
and the load generator run on disjoint cores, and each measurement reports
the engine tree's CPU seconds per 1,000 answered queries (``/proc``).
"""

from __future__ import annotations

import asyncio
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ruvstream.bench import datasets
from ruvstream.bench.histograms import summarize
from ruvstream.bench.loadgen import LoadGenerator, SteadyPlan, Workload
from ruvstream.bench.peers.bare import BareEngine
from ruvstream.bench.peers.base import EF_LADDER, Engine, MissingExtraError
from ruvstream.bench.peers.pinning import cpu_seconds, pin_self, pin_tree

__all__ = [
    "PeerConfig",
    "calibrate",
    "check_prerequisites",
    "compare_engines",
    "ratios",
]


@dataclass(frozen=True)
class PeerConfig:
    dataset: str = "glove-100k"
    queries: int = 1000
    k: int = 10
    target_recall: float = 0.95
    calibration_queries: int = 200
    seconds: float = 30.0
    workers: int = 16
    rate: float | None = None
    server_cpus: tuple[int, ...] | None = None
    client_cpus: tuple[int, ...] | None = None
    bare: bool = False


async def _recall_at(engine: Engine, ef: int, data: datasets.Dataset, config: PeerConfig) -> float:
    transport = await engine.transport(ef)
    try:
        answers = {
            row: await transport.search("bench", data.queries[row].tolist(), config.k)
            for row in range(min(config.calibration_queries, len(data.queries)))
        }
    finally:
        await transport.aclose()
    return datasets.recall(answers, data.truth, config.k)


async def calibrate(engine: Engine, data: datasets.Dataset, config: PeerConfig) -> dict[str, Any]:
    """Smallest ef on the ladder reaching the target recall (the largest if none does).

    Bisection over the ladder (recall grows with ef), so an engine that must
    rebuild to change ef rebuilds about log2(len(ladder)) times.
    """
    tried: dict[int, float] = {}
    lo, hi = 0, len(EF_LADDER) - 1
    while lo < hi:
        mid = (lo + hi) // 2
        tried[EF_LADDER[mid]] = await _recall_at(engine, EF_LADDER[mid], data, config)
        if tried[EF_LADDER[mid]] >= config.target_recall:
            hi = mid
        else:
            lo = mid + 1
    ef = EF_LADDER[lo]
    if ef not in tried:
        tried[ef] = await _recall_at(engine, ef, data, config)
    ladder = [{"ef": e, "recall": r} for e, r in sorted(tried.items())]
    return {"ef": ef, "recall": tried[ef], "ladder": ladder}


async def _measure(
    engine: Engine, ef: int, data: datasets.Dataset, config: PeerConfig, open_rate: float | None
) -> dict[str, Any]:
    transport = await engine.transport(ef)
    workload = Workload("bench", data.queries, data.base, config.k)
    generator = LoadGenerator(transport, workload)
    # Read while the transport's connections (PostgreSQL backends) are still alive.
    pid: int | None = getattr(engine, "server_pid", None)
    cpu_before = cpu_seconds(pid) if pid else 0.0
    try:
        if open_rate is None:
            result = await generator.run(SteadyPlan(config.seconds), closed_workers=config.workers)
        else:
            result = await generator.run(SteadyPlan(config.seconds, open_rate))
        cpu = cpu_seconds(pid) - cpu_before if pid else None
    finally:
        await transport.aclose()
    ok = result.book.ok
    return {
        "server_cpu_seconds": cpu,
        "cpu_ms_per_query": 1000 * cpu / ok if cpu is not None and ok else None,
        "mode": result.mode,
        "ok": result.book.ok,
        "failed": result.book.failed,
        "qps": result.book.ok / result.seconds if result.seconds else 0.0,
        "latency": summarize(result.book.merged()),
        "recall": datasets.recall(result.answers, data.truth, config.k),
        "errors": result.book.errors,
    }


async def _engine_run(engine: Engine, data: datasets.Dataset, config: PeerConfig) -> dict[str, Any]:
    loop = asyncio.get_running_loop()
    started = loop.time()
    await engine.load(data)
    load_seconds = loop.time() - started
    tuned = await calibrate(engine, data, config)
    out = {
        "engine": engine.name,
        "load_seconds": load_seconds,
        "calibration": tuned,
        "closed": await _measure(engine, tuned["ef"], data, config, None),
    }
    if config.rate:
        out["open"] = await _measure(engine, tuned["ef"], data, config, config.rate)
    if config.bare and isinstance(engine, BareEngine):
        out["bare"] = await _bare(engine, tuned["ef"], data, config)
    return out


async def _bare(
    engine: BareEngine, ef: int, data: datasets.Dataset, config: PeerConfig
) -> dict[str, Any]:
    """The engine's leanest client (``peers.bare``), closed loop, with its server CPU."""
    pid: int | None = getattr(engine, "server_pid", None)
    cpu_before = cpu_seconds(pid) if pid else 0.0
    result = await engine.bare(ef, data.queries, config.k, config.workers, config.seconds)
    cpu = cpu_seconds(pid) - cpu_before if pid else None
    result["server_cpu_seconds"] = cpu
    ok = result["ok"]
    result["cpu_ms_per_query"] = 1000 * cpu / ok if cpu is not None and ok else None
    return result


def check_prerequisites(engines: list[Engine], dataset: str = "glove-100k") -> None:
    """Everything the comparison needs, checked before it starts: fail in seconds, not minutes."""
    try:
        datasets.check(dataset)
    except datasets.DatasetUnavailableError as exc:
        raise MissingExtraError(str(exc)) from exc
    for engine in engines:
        engine.check()


def compare_engines(
    engines: list[Engine],
    config: PeerConfig,
    workdir: Path | None = None,
    on_result: Callable[[dict[str, Any]], None] | None = None,
) -> dict[str, Any]:
    """Run every engine in turn (one at a time, so they never share the CPU).

    ``on_result`` gets the report so far as soon as each engine is measured,
    so what was measured is kept even if a later engine fails.
    """
    check_prerequisites(engines, config.dataset)
    data = datasets.load(config.dataset, config.queries, config.k)
    results: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory() as tmp:
        root = workdir or Path(tmp)
        if config.client_cpus is not None:
            pin_self(config.client_cpus)
        for engine in engines:
            with engine.start(root):
                _pin_engine(engine, config)
                results.append(asyncio.run(_engine_run(engine, data, config)))
            if on_result is not None:
                on_result(_report(config, data.name, results))
    return _report(config, data.name, results)


def _pin_engine(engine: Engine, config: PeerConfig) -> None:
    """The engine's tree onto the server CPUs; its later children inherit the mask."""
    if config.server_cpus is None:
        return
    pid: int | None = getattr(engine, "server_pid", None)
    if pid is None:
        raise RuntimeError(f"{engine.name}: no server process to pin (started elsewhere)")
    pin_tree(pid, config.server_cpus)


def _report(config: PeerConfig, dataset: str, results: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "config": config.__dict__,
        "dataset": dataset,
        "engines": list(results),
        "ratios": ratios(results),
    }


def ratios(results: list[dict[str, Any]]) -> dict[str, dict[str, float]]:
    """ruvstream / peer for QPS and p99 (closed loop, and open loop when measured)."""
    ours = next((r for r in results if r["engine"] == "ruvstream"), None)
    if ours is None:
        return {}
    out: dict[str, dict[str, float]] = {}
    for peer in results:
        if peer is ours:
            continue
        row = {
            "qps": _ratio(ours["closed"]["qps"], peer["closed"]["qps"]),
            "p99_closed": _ratio(
                ours["closed"]["latency"]["p99"], peer["closed"]["latency"]["p99"]
            ),
        }
        mine, theirs = ours["closed"]["cpu_ms_per_query"], peer["closed"]["cpu_ms_per_query"]
        if mine is not None and theirs is not None:
            row["cpu_per_query"] = _ratio(mine, theirs)
        if "bare" in ours and "bare" in peer:
            row["bare_qps"] = _ratio(ours["bare"]["qps"], peer["bare"]["qps"])
            row["bare_p99"] = _ratio(ours["bare"]["p99"], peer["bare"]["p99"])
            a, b = ours["bare"]["cpu_ms_per_query"], peer["bare"]["cpu_ms_per_query"]
            if a is not None and b is not None:
                row["bare_cpu_per_query"] = _ratio(a, b)
        if "open" in ours and "open" in peer:
            row["p99_open"] = _ratio(ours["open"]["latency"]["p99"], peer["open"]["latency"]["p99"])
        out[peer["engine"]] = row
    return out


def _ratio(a: float, b: float) -> float:
    return a / b if b else float("inf")
