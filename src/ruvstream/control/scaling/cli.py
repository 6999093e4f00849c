"""``ruvstream scale``: replay a load trace, print a pre-warm plan, check a calendar.

``replay`` exits 0 and writes the per-tick JSON; bad input (trace, calendar
or config) exits 2 with the message naming what is wrong. ``plan`` is a
dry run by nature: it prints what the predictor would pre-warm and acts on
nothing.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import click
from rich.console import Console
from rich.table import Table

from .calendar import Calendar, iso_utc, parse_time
from .config import ScalingConfig
from .errors import ScalingError
from .predictor import Predictor
from .replay import replay
from .trace import Trace

__all__ = ["scale"]

_FILE = click.Path(exists=True, dir_okay=False, path_type=Path)


@click.group()
def scale() -> None:
    """Burst scaling: replay traces through the policies, plan pre-warming."""


def _start(text: str) -> float:
    try:
        return parse_time(float(text) if _is_number(text) else text, "--start")
    except ScalingError as exc:
        raise click.BadParameter(str(exc)) from None


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _inputs(calendar: Path | None, config: Path | None) -> tuple[Calendar, ScalingConfig]:
    try:
        cal = Calendar.load(calendar) if calendar else Calendar()
        cfg = ScalingConfig.load(config) if config else ScalingConfig()
    except (ScalingError, OSError) as exc:
        raise click.ClickException(str(exc)) from None
    return cal, cfg


@scale.command("replay")
@click.argument("trace_path", metavar="TRACE.csv", type=_FILE)
@click.option("--calendar", type=_FILE, help="Event calendar (JSON).")
@click.option("--config", "config_path", type=_FILE, help="Scaling config (JSON).")
@click.option(
    "--json",
    "out",
    type=click.Path(path_type=Path),
    required=True,
    help="Where to write the per-tick results.",
)
@click.option(
    "--start",
    default="0",
    show_default=True,
    help="Wall time of t_seconds=0: ISO 8601 with a zone, or Unix seconds.",
)
@click.option("--reactive-only", is_flag=True, help="Switch the predictor off.")
def replay_command(
    trace_path: Path,
    calendar: Path | None,
    config_path: Path | None,
    out: Path,
    start: str,
    reactive_only: bool,
) -> None:
    """Run the scaling policies over TRACE.csv (t_seconds,region,offered_qps,streams)."""
    cal, cfg = _inputs(calendar, config_path)
    try:
        trace = Trace.load(trace_path)
    except ScalingError as exc:
        raise click.ClickException(str(exc)) from None
    result = replay(trace, cfg, cal, predictive=not reactive_only, start=_start(start))
    out.write_text(json.dumps(result.to_json()) + "\n")
    summary = result.summary()
    table = Table(
        "region",
        "offered",
        "shed",
        "SLO-violation s",
        "peak desired",
        title=f"{summary['ticks']} ticks of {summary['tick_seconds']:g} s",
    )
    for region, s in summary["regions"].items():
        share = s["shed"] / s["offered"] if s["offered"] else 0.0
        table.add_row(
            region,
            f"{s['offered']:,}",
            f"{share:.2%}",
            f"{s['slo_violation_seconds']:g}",
            str(s["peak_desired"]),
        )
    console = Console()
    console.print(table)
    console.print(
        f"cost ${summary['cost_dollars']:,.2f}, SLO-violation "
        f"{summary['slo_violation_seconds']:g} region-seconds, highest degradation "
        f"{summary['max_level']}; ticks written to {out}"
    )


@scale.command("plan")
@click.option("--calendar", type=_FILE, required=True, help="Event calendar (JSON).")
@click.option("--config", "config_path", type=_FILE, help="Scaling config (JSON).")
@click.option("--at", "at", default=None, help="Plan as of this time (default: now).")
@click.option("--lookahead-hours", type=float, default=24.0, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
def plan_command(
    calendar: Path,
    config_path: Path | None,
    at: str | None,
    lookahead_hours: float,
    as_json: bool,
) -> None:
    """Dry run: when each region would start pre-warming for upcoming events, and to what.

    Without load history the baseline is zero, so instances come from an
    event's expected audience alone; the leader's plan adds its forecast.
    """
    cal, cfg = _inputs(calendar, config_path)
    now = time.time() if at is None else _start(at)
    steps = Predictor(cal, cfg.node, cfg.predictor).schedule(now, lookahead_hours * 3600)
    rows: list[dict[str, str | int]] = [
        {
            "event": s.event_id,
            "region": s.region,
            "prewarm_at": iso_utc(s.prewarm_at),
            "start": iso_utc(s.start),
            "instances": s.instances,
        }
        for s in steps
    ]
    if as_json:
        click.echo(json.dumps(rows, indent=2))
        return
    table = Table(
        "event",
        "region",
        "pre-warm at",
        "start",
        "instances",
        title=f"dry run: nothing is acted on (lead {cfg.node.startup_seconds:g} s "
        f"start-up + {cfg.predictor.prewarm_margin_seconds:g} s)",
    )
    for r in rows:
        table.add_row(*(str(r[k]) for k in ("event", "region", "prewarm_at", "start", "instances")))
    Console().print(table)


@scale.command("check-calendar")
@click.argument("path", type=_FILE)
def check_calendar(path: Path) -> None:
    """Validate a calendar file and list its events with the patterns they match."""
    cal, _ = _inputs(path, None)
    for e in cal:
        click.echo(
            f"{e.event.id}: {e.event.type} -> {e.pattern.name} {e.multiplier:g}x "
            f"from {iso_utc(e.start)} for {e.duration_seconds:g} s in "
            f"{', '.join(e.regions) or '(no regions)'}"
        )
    click.echo(f"{len(cal)} event(s) OK")
