"""``ruvstream bench``: run, list, report, compare; peers, node, router, replication.

``run`` drives a scenario of the library; ``peers`` compares engines;
``node``, ``router`` and ``replication`` are the focused benchmarks of one
process kind (served/raw, added latency, replication lag).

``run`` exits 0 when the scenario's SLA holds and 99 when it does not (the
k6 convention, so CI can gate on it); 2 for a scenario that cannot run here.
"""

from __future__ import annotations

import json
import tempfile
import textwrap
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import click
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from ruvstream.bench import analysis, report
from ruvstream.bench.dataset_cli import dataset
from ruvstream.bench.deployment import RegionalDeployment
from ruvstream.bench.ingest_cli import ingest
from ruvstream.bench.loadgen import LoadResult
from ruvstream.bench.node_vs_raw import node_benchmark
from ruvstream.bench.peers_cli import peers
from ruvstream.bench.profile import profile
from ruvstream.bench.replication_lag import replication_benchmark
from ruvstream.bench.router_overhead import router_benchmark
from ruvstream.bench.runner import RunConfig, ScenarioUnavailableError, run
from ruvstream.bench.scaling.cli import scaling as scaling_command
from ruvstream.bench.scenarios import SCENARIOS, LocalScale, LocalShape, get_scenario
from ruvstream.bench.standing import standing_benchmark
from ruvstream.bench.startup import startup_benchmark
from ruvstream.bench.streams_idle import streams_idle
from ruvstream.bench.target import spawned_node
from ruvstream.bench.transports import PROTOCOLS

__all__ = ["bench"]

SLA_FAILED_EXIT = 99
console = Console(stderr=True)


@click.group()
def bench() -> None:
    """Benchmark suite: open-loop load, scenarios, analysis, dashboard."""


@bench.command("list")
@click.option("--seconds", type=float, default=60.0, show_default=True)
def list_scenarios(seconds: float) -> None:
    """The scenario library and what each maps to on this machine."""
    for line in _scenario_listing(seconds):
        click.echo(line)


_LIST_WIDTH = 80
_LIST_COLUMNS = "{:<22} {:>11}  {:>5}  {:<9} {:>5}  {:>7}"


def _scenario_listing(seconds: float) -> list[str]:
    """Two lines per scenario, the second its title and needs: readable at 80 columns."""
    scale = LocalScale(seconds=seconds)
    lines = [_LIST_COLUMNS.format("scenario", "streams", "q/s", "protocol", "reads", "p99 SLA")]
    for s in SCENARIOS.values():
        shape = LocalShape(s, scale)
        peak = round(shape.base_streams * max(max(st.start, st.end) for st in s.stages))
        streams = f"{shape.base_streams}" + (f"-{peak}" if peak != shape.base_streams else "")
        lines.append(
            _LIST_COLUMNS.format(
                s.name,
                streams,
                f"{shape.base_rate:.0f}",
                s.protocol,
                f"{s.read_ratio:.0%}",
                f"{s.sla.p99_ms:.0f} ms",
            )
        )
        about = s.title + (f"; needs {', '.join(s.requires)}" if s.requires else "")
        lines += textwrap.wrap(about, _LIST_WIDTH, initial_indent="    ", subsequent_indent="    ")
    note = f"Local figures for a {seconds:g} s run: streams held (base-peak), queries/s at base."
    return [*lines, *textwrap.wrap(note, _LIST_WIDTH)]


def _progress_printer(bar: Progress, task: Any, seconds: float) -> Any:
    def update(t: float, load: LoadResult) -> None:
        lat = load.book.merged()
        p99 = lat.get_value_at_percentile(99.0) / 1000 if lat.get_total_count() else 0.0
        streams = max((w["streams"] for w in load.timeline.windows.values()), default=0)
        line = (
            f"ok {load.book.ok}  err {load.book.failed}  dropped {load.dropped}  "
            f"p99 {p99:.1f} ms  streams {streams}"
        )
        bar.update(task, completed=min(t, seconds), summary=line)

    return update


@bench.command("run")
@click.argument("scenario", type=click.Choice(sorted(SCENARIOS)))
@click.option("--url", default=None, help="Node URL on loopback; default: start a node here.")
@click.option(
    "--out",
    "out_dir",
    type=click.Path(path_type=Path),
    default=Path("bench-results"),
    show_default=True,
)
@click.option(
    "--dataset",
    default="glove-10k",
    show_default=True,
    type=click.Choice(["glove-10k", "glove-100k", "glove-full"]),
)
@click.option("--queries", type=int, default=1000, show_default=True)
@click.option("--k", type=int, default=10, show_default=True)
@click.option(
    "--seconds",
    type=float,
    default=60.0,
    show_default=True,
    help="Local duration the scenario's timeline is compressed into.",
)
@click.option(
    "--stream-scale",
    type=float,
    default=1e6,
    show_default=True,
    help="Production streams per local stream.",
)
@click.option(
    "--rate-scale",
    type=float,
    default=2e5,
    show_default=True,
    help="Production queries/s per local query/s.",
)
@click.option("--streams", type=int, default=None, help="Override the base stream count.")
@click.option("--rate", type=float, default=None, help="Override the base rate (q/s).")
@click.option("--protocol", type=click.Choice(PROTOCOLS), default=None)
@click.option(
    "--closed",
    "closed_workers",
    type=int,
    default=0,
    help="Closed loop with N workers instead of the open loop.",
)
@click.option("--constant/--poisson", default=False, help="Arrival spacing (open loop).")
@click.option("--max-count", type=int, default=None)
@click.option("--price-per-hour", type=float, default=0.50, show_default=True)
@click.option("--force", is_flag=True, help="Run even if the scenario's needs are missing.")
@click.option(
    "--node-arg",
    "node_args",
    multiple=True,
    help="Extra `ruvstream serve` argument for the node started here (repeatable).",
)
@click.option(
    "--regions",
    type=int,
    default=0,
    help="Start N regions (2-4) behind a router here; enables the failover scenarios.",
)
@click.option("--nodes-per-region", type=int, default=1, show_default=True)
@click.option(
    "--failure-mode",
    type=click.Choice(["kill", "pause"]),
    default="kill",
    show_default=True,
    help="kill: SIGKILL then restart; pause: SIGSTOP then SIGCONT.",
)
def run_command(
    scenario: str,
    url: str | None,
    out_dir: Path,
    dataset: str,
    queries: int,
    k: int,
    seconds: float,
    stream_scale: float,
    rate_scale: float,
    streams: int | None,
    rate: float | None,
    protocol: str | None,
    closed_workers: int,
    constant: bool,
    max_count: int | None,
    price_per_hour: float,
    force: bool,
    node_args: tuple[str, ...],
    regions: int,
    nodes_per_region: int,
    failure_mode: str,
) -> None:
    """Run SCENARIO and write result.json, timeline.csv, report.md, dashboard.html."""
    scale = LocalScale(stream_scale=stream_scale, rate_scale=rate_scale, seconds=seconds)
    with ExitStack() as stack:
        deployment = None
        if regions:
            work = Path(stack.enter_context(tempfile.TemporaryDirectory()))
            deployment = RegionalDeployment(work, regions, nodes_per_region, failure_mode)
            url = stack.enter_context(deployment).url
        elif url is None:
            data_dir = Path(stack.enter_context(tempfile.TemporaryDirectory()))
            http2 = (protocol or get_scenario(scenario).protocol) == "http2"
            if http2 and "--http2" not in node_args:
                node_args = (*node_args, "--http2")  # the node must speak it
            url = stack.enter_context(spawned_node(data_dir, *node_args))
        config = RunConfig(
            scenario,
            url,
            out_dir,
            dataset,
            queries,
            k,
            scale,
            protocol,
            closed_workers,
            not constant,
            max_count,
            streams,
            rate,
            price_per_hour,
            spawned=bool(stack) and deployment is None,
            force=force,
        )
        columns = (
            TextColumn("{task.description}"),
            BarColumn(),
            TimeElapsedColumn(),
            TextColumn("{task.fields[summary]}"),
        )
        try:
            with Progress(*columns, console=console, transient=True) as bar:
                task = bar.add_task(scenario, total=seconds, summary="")
                progress = _progress_printer(bar, task, seconds)
                result, run_dir = run(config, progress, deployment)
        except ScenarioUnavailableError as exc:
            console.print(f"[yellow]{exc}[/]")
            raise SystemExit(2) from exc
    _print_summary(result, run_dir)
    if not result["analysis"]["sla"]["passed"]:
        raise SystemExit(SLA_FAILED_EXIT)


def _print_summary(result: dict[str, Any], run_dir: Path | None) -> None:
    s, a = result["summary"], result["analysis"]
    lat = s["latency"]
    out = Console()
    out.print(
        f"[bold]{result['scenario']['title']}[/]  score {a['score']['overall']} "
        f"({a['grade']})  SLA {'PASSED' if a['sla']['passed'] else 'FAILED'}"
    )
    out.print(
        f"ok {s['ok']}  failed {s['failed']}  dropped {s['dropped']}  "
        f"{s['qps']:.1f} q/s  p50 {lat['p50']:.2f} ms  p99 {lat['p99']:.2f} ms  "
        f"max {lat['max']:.2f} ms  recall {s['recall']:.4f}  "
        f"server searches {s['server_searches']:.0f}"
    )
    for phase in (result.get("failures") or {}).get("phases", []):
        served = "  ".join(f"{r} {n:.0f}" for r, n in phase["served"].items())
        out.print(f"t={phase['from']:.1f}s after {phase['after']}: {served}")
    if run_dir is not None:
        out.print(f"results in {run_dir}")


@bench.command("report")
@click.argument("result_path", metavar="RESULT", type=click.Path(exists=True, path_type=Path))
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["markdown", "json", "csv", "html"]),
    default="markdown",
    show_default=True,
)
def report_command(result_path: Path, fmt: str) -> None:
    """Re-analyse a stored RESULT (result.json or its run directory) and print it."""
    result = report.load_result(result_path)
    result["analysis"] = analysis.analyze(result)
    if fmt == "json":
        click.echo(json.dumps(result["analysis"], indent=1))
    elif fmt == "csv":
        click.echo(report.to_csv(result), nl=False)
    elif fmt == "html":
        from ruvstream.bench.dashboard import render

        click.echo(render(result))
    else:
        click.echo(report.to_markdown(result), nl=False)


@bench.command("compare")
@click.argument("a", type=click.Path(exists=True, path_type=Path))
@click.argument("b", type=click.Path(exists=True, path_type=Path))
@click.option("--json", "as_json", is_flag=True)
def compare_command(a: Path, b: Path, as_json: bool) -> None:
    """B relative to A: p50/p99, throughput, errors, recall."""
    diff = analysis.compare(report.load_result(a), report.load_result(b))
    if as_json:
        click.echo(json.dumps(diff, indent=1))
        return
    table = Table("metric", "A", "B", "change", title=f"verdict: {diff['verdict']}")
    for name, row in diff["metrics"].items():
        mark = "better" if row["improved"] else ("same" if not row["change_pct"] else "worse")
        table.add_row(
            name, f"{row['a']:.4g}", f"{row['b']:.4g}", f"{row['change_pct']:+.2f}% ({mark})"
        )
    Console().print(table)


bench.add_command(peers)
bench.add_command(ingest)
bench.add_command(node_benchmark)
bench.add_command(router_benchmark)
bench.add_command(replication_benchmark)
bench.add_command(scaling_command)
bench.add_command(profile)
bench.add_command(startup_benchmark)
bench.add_command(streams_idle)
bench.add_command(standing_benchmark)
bench.add_command(dataset)
