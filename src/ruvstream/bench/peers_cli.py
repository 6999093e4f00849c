"""``ruvstream bench peers``: ruvstream against pgvector and Chroma on this machine.

Every engine's prerequisites are checked before any work starts, and the
report (peers.json, peers.md) is rewritten as soon as each engine is
measured, so a failure late in a long run keeps what was measured.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click
from rich.console import Console
from rich.table import Table

from ruvstream.bench.datasets import NAMES
from ruvstream.bench.peers import ENGINES, MissingExtraError, PeerConfig, compare_engines
from ruvstream.bench.peers.base import Engine
from ruvstream.bench.peers.pinning import parse_cpus

__all__ = ["peers", "to_markdown", "write_report"]


def to_markdown(report: dict[str, Any]) -> str:
    c = report["config"]
    lines = [
        f"# ruvstream vs peers: {report['dataset']}, recall@{c['k']} >= {c['target_recall']}",
        "",
        f"Closed loop, {c['workers']} clients, {c['seconds']:.0f} s per engine"
        + (f"; open loop at {c['rate']:.0f} q/s" if c["rate"] else "")
        + (
            f"; engine on CPUs {c['server_cpus']}, load generator on {c['client_cpus']}"
            if c.get("server_cpus") or c.get("client_cpus")
            else ""
        )
        + ".",
        "",
        "| engine | load s | ef | recall | QPS | p50 ms | p99 ms | open p99 ms | "
        "server CPU ms/query |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for r in report["engines"]:
        closed, lat = r["closed"], r["closed"]["latency"]
        open_p99 = f"{r['open']['latency']['p99']:.2f}" if "open" in r else "-"
        cpu = closed.get("cpu_ms_per_query")
        cpu_text = "-" if cpu is None else f"{cpu:.3f}"
        lines.append(
            f"| {r['engine']} | {r['load_seconds']:.1f} | {r['calibration']['ef']} | "
            f"{closed['recall']:.3f} | {closed['qps']:.0f} | {lat['p50']:.2f} | "
            f"{lat['p99']:.2f} | {open_p99} | {cpu_text} |"
        )
    bare = [r for r in report["engines"] if "bare" in r]
    if bare:
        lines += [
            "",
            "| engine | bare client | QPS | p50 ms | p99 ms | server CPU ms/query |",
            "|---|---|---|---|---|---|",
        ]
        for r in bare:
            b = r["bare"]
            cpu = "-" if b["cpu_ms_per_query"] is None else f"{b['cpu_ms_per_query']:.3f}"
            lines.append(
                f"| {r['engine']} | {b['client']} | {b['qps']:.0f} | {b['p50']:.2f} | "
                f"{b['p99']:.2f} | {cpu} |"
            )
    lines += [
        "",
        "| ruvstream / peer | QPS | p99 (closed) | p99 (open) | CPU per query |",
        "|---|---|---|---|---|",
    ]
    for peer, row in report["ratios"].items():
        open_ratio = f"{row['p99_open']:.2f}" if "p99_open" in row else "-"
        cpu_ratio = f"{row['cpu_per_query']:.2f}" if "cpu_per_query" in row else "-"
        lines.append(
            f"| {peer} | {row['qps']:.2f} | {row['p99_closed']:.2f} | {open_ratio} | {cpu_ratio} |"
        )
    return "\n".join(lines) + "\n"


def write_report(out_dir: Path, report: dict[str, Any]) -> None:
    """peers.json and peers.md for the engines measured so far."""
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "peers.json").write_text(json.dumps(report, indent=1))
    (out_dir / "peers.md").write_text(to_markdown(report))


@click.command("peers")
@click.option(
    "--engines",
    default="ruvstream,pgvector,chroma",
    show_default=True,
    help="Comma-separated: " + ", ".join(ENGINES),
)
@click.option(
    "--dataset",
    default="glove-100k",
    show_default=True,
    type=click.Choice(NAMES),
    help="minilm-384 once built (`ruvstream bench dataset build minilm-384`).",
)
@click.option("--recall", "target_recall", type=float, default=0.95, show_default=True)
@click.option("--k", type=int, default=10, show_default=True)
@click.option("--seconds", type=float, default=30.0, show_default=True)
@click.option("--workers", type=int, default=16, show_default=True)
@click.option("--rate", type=float, default=None, help="Also an open loop at this q/s.")
@click.option("--bare", is_flag=True, help="Also each engine's bare-protocol client.")
@click.option("--server-cpus", default=None, help="taskset -c list for each engine's processes.")
@click.option("--client-cpus", default=None, help="taskset -c list for the load generator.")
@click.option(
    "--out",
    "out_dir",
    type=click.Path(path_type=Path),
    default=Path("bench-results/peers"),
    show_default=True,
)
def peers(
    engines: str,
    dataset: str,
    target_recall: float,
    k: int,
    seconds: float,
    workers: int,
    rate: float | None,
    bare: bool,
    server_cpus: str | None,
    client_cpus: str | None,
    out_dir: Path,
) -> None:
    """Same data, same machine, equal recall: QPS and p99 of each engine, and ratios."""
    chosen: list[Engine] = []
    for name in engines.split(","):
        if name not in ENGINES:
            raise click.BadParameter(f"unknown engine {name!r}", param_hint="--engines")
        chosen.append(ENGINES[name]())
    config = PeerConfig(
        dataset=dataset,
        k=k,
        target_recall=target_recall,
        seconds=seconds,
        workers=workers,
        rate=rate,
        server_cpus=tuple(sorted(parse_cpus(server_cpus))) if server_cpus else None,
        client_cpus=tuple(sorted(parse_cpus(client_cpus))) if client_cpus else None,
        bare=bare,
    )
    measured: list[str] = []

    def keep(report: dict[str, Any]) -> None:
        write_report(out_dir, report)
        measured[:] = [r["engine"] for r in report["engines"]]

    try:
        report = compare_engines(chosen, config, on_result=keep)
    except MissingExtraError as exc:
        raise click.ClickException(str(exc)) from exc
    except Exception:
        if measured:
            click.echo(f"the results of {', '.join(measured)} are kept in {out_dir}", err=True)
        raise
    table = Table("engine", "ef", "recall", "QPS", "p50 ms", "p99 ms", "CPU ms/q")
    for r in report["engines"]:
        lat = r["closed"]["latency"]
        table.add_row(
            r["engine"],
            str(r["calibration"]["ef"]),
            f"{r['closed']['recall']:.3f}",
            f"{r['closed']['qps']:.0f}",
            f"{lat['p50']:.2f}",
            f"{lat['p99']:.2f}",
            "-"
            if r["closed"]["cpu_ms_per_query"] is None
            else f"{r['closed']['cpu_ms_per_query']:.3f}",
        )
    Console().print(table)
    for peer, row in report["ratios"].items():
        click.echo(f"ruvstream/{peer}: QPS x{row['qps']:.2f}, p99 x{row['p99_closed']:.2f}")
    click.echo(f"written to {out_dir}")
