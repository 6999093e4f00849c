"""The original design's headline claims beside what a simulation run finds.

Each ``Claim`` states the original's figure and where it stands, this run's
figure in the same unit, and whether the claim holds for this run. A run
that does not model a claim (a cost per event for a run without an event)
says so instead of comparing.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ._costmodel import TOTALS, total

__all__ = ["Claim", "claims"]

_SERVED = 0.01  # at most this share shed or refused for a run to count as serving its load


@dataclass(frozen=True, slots=True)
class Claim:
    claim: str
    source: str
    original: str
    simulated: str
    holds: bool | None  # None: this run does not test it


def _money(x: float | None) -> str:
    return "n/a" if x is None else f"${x:,.0f}"


def claims(doc: dict[str, Any]) -> list[Claim]:
    streams = float(doc["streams"]["mean_open"])
    peak = int(doc["instances_peak_total"])
    ttc = doc["time_to_capacity_seconds"]
    per_month = float(doc["cost_per_month"])
    per_stream = doc["cost_per_stream_month"]
    startup = float(doc["config"]["instance"]["startup_seconds"])
    st = doc["streams"]
    refused = float(st["refused"]) / float(st["offered"]) if st["offered"] else 0.0
    # A fleet that refused its load proves nothing about what the load needs or costs.
    served = doc["shed_share"] < _SERVED and refused < _SERVED
    tiers = ", ".join(f"{t} {f['shed_share']:.0%}" for t, f in doc["tiers"].items())
    caveat = (
        ""
        if served
        else (
            f"; but {doc['shed_share']:.0%} of requests shed ({tiers}), "
            f"{refused:.0%} of streams refused"
        )
    )
    out = [
        Claim(
            "500M streams on 5,000 instances",
            "scaling-strategy.md:83-88",
            "5,000 instances",
            f"{peak:,} instances at peak for {streams / 1e6:,.0f}M streams on average" + caveat,
            served and peak <= 5000 * streams / 500e6 if streams else None,
        ),
        Claim(
            "$2.75M a month optimized ($4.03M before)",
            "infrastructure-design.md:1845",
            _money(TOTALS["optimized"]),
            f"{_money(per_month)} a month for the instances alone at this run's rate" + caveat,
            served and per_month <= TOTALS["optimized"],
        ),
        Claim(
            "$0.0055 per stream-month",
            "infrastructure-design.md:1848",
            f"${total('optimized') / 500e6:.4f}",
            "n/a" if per_stream is None else f"${per_stream:.4f} (instances alone)" + caveat,
            None if per_stream is None else served and per_stream <= total("optimized") / 500e6,
        ),
        Claim(
            "scale-up under 60 s",
            "burst README.md:23",
            "< 60 s to full capacity",
            ("never reached capacity in " + ", ".join(doc["never_reached_capacity"]))
            if ttc is None
            else ("never under capacity" if ttc == 0 else f"{ttc:,.0f} s longest under capacity")
            + f"; an instance starts in {startup:.0f} s",
            ttc is not None and ttc <= 60.0,
        ),
    ]
    if doc["scenario"] == "world-cup":
        out.append(
            Claim(
                "a 4-hour World Cup event costs $79,200",
                "infrastructure-design.md:1828",
                _money(TOTALS["world-cup-event"]),
                f"{_money(float(doc['cost_dollars']))} for the run "
                f"({doc['duration_seconds'] / 3600:.1f} h, baseline included)",
                float(doc["cost_dollars"]) <= TOTALS["world-cup-event"],
            )
        )
    return out
