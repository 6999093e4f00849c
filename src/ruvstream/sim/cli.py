"""``ruvstream sim SCENARIO``: run the global simulator and write its reports.

    ruvstream sim world-cup --seed 1 --platform vm-pool --json out.json --md out.md

Flags given here win over the ``--config`` file's fields. Exit code 0 when
the run completes (whatever it found), 2 for a config it cannot run.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import click

from ._config import SimConfigError, load_config, platform
from ._engine import SimConfig, simulate
from ._node import NodeProfile
from ._platform import PLATFORMS
from ._report import markdown, sweep_markdown
from ._result import SimResult
from ._scenarios import SCENARIOS, Scenario
from ._sensitivity import PARAMETERS, sweep
from ._traffic import BURST_MODES

__all__ = ["sim"]


def _config(
    config: Path | None,
    platform_name: str | None,
    node_profile: Path | None,
    traffic: dict[str, float | str | None],
    predictive: bool | None,
) -> SimConfig:
    try:
        out = load_config(config) if config else SimConfig()
        if platform_name:
            out = dataclasses.replace(out, platform=platform(platform_name))
        if node_profile:
            out = dataclasses.replace(out, node=NodeProfile.load(node_profile))
        given: dict[str, Any] = {k: v for k, v in traffic.items() if v is not None}
        if given:
            out = dataclasses.replace(out, traffic=dataclasses.replace(out.traffic, **given))
        if predictive is not None:
            out = dataclasses.replace(out, predictive=predictive)
    except (SimConfigError, ValueError) as exc:
        raise click.UsageError(str(exc)) from None
    return out


@click.command("sim")
@click.argument("scenario", type=click.Choice(list(SCENARIOS)))
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--config", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--platform",
    "platform_name",
    type=click.Choice(list(PLATFORMS)),
    default=None,
    help="Platform profile (default cloud-run, or the config's).",
)
@click.option(
    "--node-profile",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="A `ruvstream bench profile` result (default: the one measured here).",
)
@click.option("--streams", type=float, default=None, help="Baseline streams worldwide.")
@click.option("--queries-per-stream", type=float, default=None, help="Per second.")
@click.option("--messages-per-stream", type=float, default=None, help="Per second.")
@click.option(
    "--burst-as",
    type=click.Choice(BURST_MODES),
    default=None,
    help="A burst's audience opens streams, or arrives as messages on open ones.",
)
@click.option(
    "--predictive/--reactive-only",
    default=None,
    help="Let the predictor pre-warm for calendar events (default on).",
)
@click.option(
    "--sweep",
    default=None,
    metavar="PARAM=V1,V2,...",
    help="Run once per value of PARAM (streams-per-node, queries-per-stream, "
    "prewarm-lead, platform) and report cost and SLO against it.",
)
@click.option("--json", "json_out", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--md", "md_out", type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--html",
    "html_out",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Self-contained HTML report with interactive charts (needs plotly).",
)
def sim(
    scenario: str,
    seed: int,
    config: Path | None,
    platform_name: str | None,
    node_profile: Path | None,
    streams: float | None,
    queries_per_stream: float | None,
    messages_per_stream: float | None,
    burst_as: str | None,
    predictive: bool | None,
    json_out: Path | None,
    md_out: Path | None,
    html_out: Path | None,
    sweep: str | None,
) -> None:
    """Simulate SCENARIO over the fifteen regions with the production scaling policies."""
    cfg = _config(
        config,
        platform_name,
        node_profile,
        {
            "streams": streams,
            "queries_per_stream": queries_per_stream,
            "messages_per_stream": messages_per_stream,
            "burst_as": burst_as,
        },
        predictive,
    )
    if sweep:
        _sweep(SCENARIOS[scenario], seed, cfg, sweep, json_out, md_out, html_out)
        return
    result = simulate(SCENARIOS[scenario], seed, cfg)
    doc = result.doc
    if json_out:
        json_out.write_text(result.to_json())
    if md_out:
        md_out.write_text(markdown(doc))
    if html_out:
        _write_html(html_out, "html", doc)
    ttc = doc["time_to_capacity_seconds"]
    click.echo(
        f"{scenario} seed {seed} on {cfg.platform.name}: peak {doc['instances_peak_total']:,} "
        f"instances, shed {doc['shed_share']:.2%} of {doc['offered']:,} requests, SLO "
        f"violated {doc['slo_violation_minutes']:,.1f} region-minutes, time to capacity "
        + ("never" if ttc is None else f"{ttc:,.0f} s")
        + f", ${doc['cost_dollars']:,.0f} for the run, ${doc['cost_per_month']:,.0f} a month "
        "at its rate"
    )


def _write_html(path: Path, kind: str, doc: dict[str, Any]) -> None:
    from . import _html

    try:
        path.write_text(getattr(_html, kind)(doc))
    except RuntimeError as exc:
        raise click.ClickException(str(exc)) from None


def _sweep(
    scenario: Scenario,
    seed: int,
    cfg: SimConfig,
    spec: str,
    json_out: Path | None,
    md_out: Path | None,
    html_out: Path | None,
) -> None:
    parameter, _, values = spec.partition("=")
    if parameter not in PARAMETERS or not values:
        raise click.UsageError(
            f"--sweep: expected PARAM=V1,V2,... with PARAM one of {', '.join(PARAMETERS)}"
        )
    try:
        doc = sweep(scenario, seed, cfg, parameter, values.split(","))
    except ValueError as exc:
        raise click.UsageError(str(exc)) from None
    text = sweep_markdown(doc)
    if json_out:
        json_out.write_text(SimResult(doc).to_json())
    if md_out:
        md_out.write_text(text)
    if html_out:
        _write_html(html_out, "sweep_html", doc)
    click.echo(text, nl=False)
