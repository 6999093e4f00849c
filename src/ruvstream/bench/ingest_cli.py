"""``ruvstream bench ingest``: the streaming-ingest case against ruvstream or a peer.

    ruvstream bench ingest [--engine ruvstream|pgvector|chroma] [--rate 500] [--rows 20000]

GloVe-50 rows in dataset order (``--full`` for all 390,000 base rows), the
last words as queries; or ``--dataset`` (``minilm-384`` once built: 384-d),
its base rows in order and its held-out queries. ``--server-cpus`` pins the engine's whole process
tree and ``--client-cpus`` this process (the load generator), so the two
never share a core. Writes ingest.json and ingest.md.
"""

from __future__ import annotations

import asyncio
import json
import tempfile
from pathlib import Path
from typing import Any

import click

from ruvstream.bench import datasets
from ruvstream.bench.ingest import IngestConfig, run_case
from ruvstream.bench.peers import ENGINES, MissingExtraError
from ruvstream.bench.peers.pinning import parse_cpus, pin_self, pin_tree

__all__ = ["ingest", "to_markdown"]


def to_markdown(reports: list[dict[str, Any]]) -> str:
    lines = [
        "| engine | rate rows/s | stage | inserted | serial recall | serial p99 ms | "
        "QPS | failures | ingest actual/ideal s | write p99 / max ms | "
        "searchable p50 / p99 ms | server CPU s |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in reports:
        ing, seen = r["ingest"], r["searchable_after_insert"]["latency"]
        cpu = "-" if r["server_cpu_seconds"] is None else f"{r['server_cpu_seconds']:.1f}"
        for s in r["stages"]:
            c = s["concurrent"]
            lines.append(
                f"| {r['engine']} | {r['config']['rate']:.0f} | {s['target']:.0%} | "
                f"{s['inserted']} | {s['serial']['recall']:.3f} | "
                f"{s['serial']['latency']['p99']:.2f} | {c['qps']:.0f} | "
                f"{c['failure_rate']:.2%} | {ing['actual_seconds']:.1f} / "
                f"{ing['ideal_seconds']:.1f} | {ing['latency']['p99']:.1f} / "
                f"{ing['latency']['max']:.1f} | {seen['p50']:.1f} / {seen['p99']:.1f} | {cpu} |"
            )
    return "\n".join(lines) + "\n"


def _one(
    engine_name: str, dataset: str, rows: int | None, config: IngestConfig, cpus: dict[str, Any]
) -> dict[str, Any]:
    engine = ENGINES[engine_name]()
    engine.check()
    base, queries = datasets.vectors(dataset, rows, 1000)
    pinning: dict[str, Any] = {k: sorted(v) if v else None for k, v in cpus.items()}
    with tempfile.TemporaryDirectory() as tmp, engine.start(Path(tmp)):
        if cpus["server"] is not None:
            if engine.server_pid is None:
                raise click.ClickException(f"{engine_name}: no server process to pin")
            pinning["server_pids"] = len(pin_tree(engine.server_pid, cpus["server"]))
        if cpus["client"] is not None:
            pin_self(cpus["client"])
        report = asyncio.run(run_case(engine, base, queries, config))
    label = "glove-50" if dataset.startswith("glove") else dataset
    report["dataset"] = f"{label} first {len(base)} rows"
    report["pinning"] = pinning
    return report


@click.command("ingest")
@click.option(
    "--engine", "engines", default="ruvstream", show_default=True, help="Comma-separated."
)
@click.option("--rate", "rates", type=float, multiple=True, help="Rows/s (repeatable; 500).")
@click.option("--rows", type=int, default=20_000, show_default=True)
@click.option("--full", is_flag=True, help="All base rows (390,000 of GloVe-50).")
@click.option(
    "--dataset",
    type=click.Choice(datasets.NAMES),
    default="glove-full",
    show_default=True,
    help="Rows from this set: minilm-384 once built (`ruvstream bench dataset build`).",
)
@click.option("--batch", type=int, default=10, show_default=True, help="Rows per write.")
@click.option("--clients", type=int, default=8, show_default=True)
@click.option("--ef", type=int, default=64, show_default=True)
@click.option("--window", type=float, default=5.0, show_default=True, help="QPS window s.")
@click.option("--serial-queries", type=int, default=100, show_default=True)
@click.option("--server-cpus", default=None, help="taskset -c list for the engine's processes.")
@click.option("--client-cpus", default=None, help="taskset -c list for the load generator.")
@click.option(
    "--out", "out_dir", type=click.Path(path_type=Path), default=Path("bench-results/ingest")
)
def ingest(
    engines: str,
    rates: tuple[float, ...],
    rows: int,
    full: bool,
    dataset: str,
    batch: int,
    clients: int,
    ef: int,
    window: float,
    serial_queries: int,
    server_cpus: str | None,
    client_cpus: str | None,
    out_dir: Path,
) -> None:
    """Insert at a fixed rate while clients search: recall, QPS, write and visibility lag."""
    names = engines.split(",")
    for name in names:
        if name not in ENGINES:
            raise click.BadParameter(f"unknown engine {name!r}", param_hint="--engine")
    cpus = {
        "server": parse_cpus(server_cpus) if server_cpus else None,
        "client": parse_cpus(client_cpus) if client_cpus else None,
    }
    try:
        datasets.check(dataset)
    except datasets.DatasetUnavailableError as exc:
        raise click.ClickException(str(exc)) from exc
    reports: list[dict[str, Any]] = []
    out_dir.mkdir(parents=True, exist_ok=True)
    for name in names:
        for rate in rates or (500.0,):
            config = IngestConfig(
                rate=rate,
                batch=batch,
                clients=clients,
                ef=ef,
                serial_queries=serial_queries,
                window_seconds=window,
            )
            try:
                reports.append(_one(name, dataset, None if full else rows, config, cpus))
            except MissingExtraError as exc:
                raise click.ClickException(str(exc)) from exc
            (out_dir / "ingest.json").write_text(json.dumps(reports, indent=1))
            (out_dir / "ingest.md").write_text(to_markdown(reports))
    click.echo(to_markdown(reports), nl=False)
    click.echo(f"written to {out_dir}")
