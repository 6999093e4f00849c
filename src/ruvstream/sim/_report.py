"""A run as Markdown: totals, regions, and the original design's claims beside it."""

from __future__ import annotations

from typing import Any

from ._claims import claims
from ._costmodel import TOTALS, inconsistencies, total

__all__ = ["markdown", "original_costs", "sweep_markdown"]


def _n(x: float) -> str:
    return f"{x:,.0f}"


def markdown(doc: dict[str, Any]) -> str:
    c = doc["config"]
    t, p, node = c["traffic"], c["platform"], c["node"]
    ttc = doc["time_to_capacity_seconds"]
    lines = [
        f"# Simulation: {doc['title']}",
        "",
        f"Scenario `{doc['scenario']}`, seed {doc['seed']}, {doc['duration_seconds'] / 3600:.2f} h "
        f"in {doc['tick_seconds']:g} s ticks, platform `{p['name']}`; {_n(t['streams'])} streams "
        f"at baseline, {t['queries_per_stream']:g} queries and {t['messages_per_stream']:g} "
        f"messages per stream per second, bursts as {t['burst_as']}. Node profile: "
        f"{node['qps_per_core']:,.0f} QPS per core at recall@10 {node['recall_at_10']:.3f}, "
        f"{node['streams_per_gb']:,.0f} streams per GB (measured {node['measured_at']}); an "
        f"instance serves {c['instance']['qps_per_instance']:,.0f} q/s, holds "
        f"{c['instance']['streams_per_instance']:,.0f} streams and starts in "
        f"{c['instance']['startup_seconds']:.0f} s.",
        "",
        "## Totals",
        "",
        "| figure | value |",
        "|---|---|",
        f"| offered ({doc['unit']}) | {_n(doc['offered'])} |",
        f"| served | {_n(doc['served'])} |",
        f"| shed | {_n(doc['shed'])} ({doc['shed_share']:.2%}) |",
        f"| streams refused (stream-seconds) | {_n(doc['streams']['refused'])} |",
        f"| SLO violation (region-minutes) | {doc['slo_violation_minutes']:,.1f} |",
        "| time to capacity (longest stretch under capacity) | "
        + ("never reached" if ttc is None else f"{ttc:,.0f} s")
        + " |",
        f"| peak instances (all regions) | {_n(doc['instances_peak_total'])} |",
        f"| instance-hours | {_n(doc['instance_hours'])} |",
        f"| cost of the run | ${_n(doc['cost_dollars'])} |",
        f"| cost per hour | ${_n(doc['cost_per_hour'])} |",
        f"| cost per month at this rate | ${_n(doc['cost_per_month'])} |",
        "| cost per stream-month | "
        + (
            "n/a"
            if doc["cost_per_stream_month"] is None
            else f"${doc['cost_per_stream_month']:.4f}"
        )
        + " |",
        f"| highest degradation level | {doc['max_degradation_level']} |",
        "",
        "## Shed by tier",
        "",
        "The plan sheds free traffic first, then standard, premium never; what ready capacity "
        "cannot take is cut in the same order, premium last.",
        "",
        "| tier | offered | shed | share of the tier |",
        "|---|---:|---:|---:|",
        *(
            f"| {tier} | {_n(f['offered'])} | {_n(f['shed'])} | {f['shed_share']:.2%} |"
            for tier, f in doc["tiers"].items()
        ),
        "",
        "## Regions",
        "",
        "| region | peak instances | wanted at peak | SLO violation (min) |",
        "|---|---:|---:|---:|",
    ]
    for r, n in doc["instances_peak"].items():
        lines.append(
            f"| {r} | {_n(n)} | {_n(doc['instances_wanted_peak'][r])} | "
            f"{doc['slo_violation_minutes_by_region'][r]:,.1f} |"
        )
    lines += [
        "",
        "## The original design's claims beside this run",
        "",
        "| claim | original | this run | holds |",
        "|---|---|---|---|",
    ]
    for k in claims(doc):
        verdict = "not tested" if k.holds is None else ("yes" if k.holds else "no")
        lines.append(f"| {k.claim} ({k.source}) | {k.original} | {k.simulated} | {verdict} |")
    return "\n".join(lines + original_costs()) + "\n"


def original_costs() -> list[str]:
    """The original's tables recomputed, and where its figures disagree."""
    lines = [
        "",
        "## The original design's cost tables, recomputed",
        "",
        "| table | stated | sum of its items |",
        "|---|---:|---:|",
    ]
    for name, stated in TOTALS.items():
        lines.append(f"| {name} | ${_n(stated)} | ${_n(total(name))} |")
    lines += ["", "| inconsistency | stated | its own inputs give | note |", "|---|---:|---:|---|"]
    for i in inconsistencies():
        lines.append(f"| {i.name} | {i.stated:,.4g} | {i.computed:,.4g} | {i.note} |")
    return lines


def sweep_markdown(doc: dict[str, Any]) -> str:
    """A sensitivity sweep as one table: each value's cost, capacity and SLO."""
    lines = [
        f"# Sensitivity of `{doc['scenario']}` (seed {doc['seed']}) to {doc['parameter']}",
        "",
        "| value | cost of the run | cost per month | per stream-month | instance-hours "
        "| peak instances | SLO violation (region-min) | shed | time to capacity |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in doc["rows"]:
        ttc = r["time_to_capacity_seconds"]
        per_stream = r["cost_per_stream_month"]
        lines.append(
            f"| {r['value']} | ${_n(r['cost_dollars'])} | ${_n(r['cost_per_month'])} | "
            + ("n/a" if per_stream is None else f"${per_stream:.4f}")
            + f" | {_n(r['instance_hours'])} | {_n(r['instances_peak_total'])} | "
            f"{r['slo_violation_minutes']:,.1f} | {r['shed_share']:.2%} | "
            + ("never" if ttc is None else f"{ttc:,.0f} s")
            + " |"
        )
    return "\n".join(lines) + "\n"
