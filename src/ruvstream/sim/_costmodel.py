"""The original design's cost tables as data, a calculator, and what does not add up.

Every figure is the original's, with where it stands (inventory 2.11 and 3).
``total(table)`` sums a table's items; ``TOTALS`` are the totals the original
states, which the calculator reproduces to the dollar. ``inconsistencies()``
recomputes each figure the original derived (or should have) and names
where its own numbers disagree.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

__all__ = [
    "BURST_README",
    "COST_TABLES",
    "TOTALS",
    "CostItem",
    "Inconsistency",
    "group_total",
    "inconsistencies",
    "per_stream_month",
    "total",
]


@dataclass(frozen=True, slots=True)
class CostItem:
    name: str
    group: str
    dollars: float
    basis: str = ""


def _t(*items: tuple[str, str, float, str]) -> tuple[CostItem, ...]:
    return tuple(CostItem(*i) for i in items)


COST_TABLES: Mapping[str, tuple[CostItem, ...]] = {
    # infrastructure-design.md:1765-1817, a month at baseline (500M streams).
    "baseline": _t(
        ("Cloud Run", "compute", 1_263_000, "5,000 instances, 14.6M vCPU-h x $0.000024/vCPU-s"),
        ("Memorystore Redis", "compute", 76_000, "1,920 GB x $0.054/GB-h"),
        ("Cloud SQL", "compute", 5_500, "15 instances"),
        ("Cloud Storage", "storage", 1_000, "50 TB x $0.020/GB"),
        ("Egress", "storage", 24_000, "300 TB x $0.08/GB"),
        ("Load balancing", "networking", 420_000, "100 PB processed"),
        ("Cloud CDN", "networking", 2_200_000, "40 PB"),
        ("VPC", "networking", 15_000, ""),
        ("Monitoring", "monitoring", 2_500, ""),
        ("Logging", "monitoring", 8_000, ""),
        ("Trace", "monitoring", 1_000, ""),
        ("Cloud Armor", "security", 10_000, ""),
        ("Secret Manager", "security", 500, ""),
    ),
    # infrastructure-design.md:1837-1850, the same month "optimized".
    "optimized": _t(
        ("compute", "compute", 876_000, '"30%" via CUDs and right-sizing'),
        ("networking", "networking", 1_829_000, '"30% via CDN"'),
        ("storage", "storage", 25_000, ""),
        ("monitoring", "monitoring", 11_500, ""),
        ("security", "security", 10_500, ""),
    ),
    # DEPLOYMENT_GUIDE.md:872-899, a different breakdown of "~$2.75M".
    "deployment-guide": _t(
        ("Cloud Run", "compute", 2_400_000, "$0.0048 per connection"),
        ("Cloud SQL", "compute", 150_000, ""),
        ("Redis", "compute", 45_000, ""),
        ("LB + CDN", "networking", 80_000, ""),
        ("networking", "networking", 50_000, ""),
        ("monitoring", "monitoring", 20_000, ""),
        ("storage", "storage", 5_000, ""),
    ),
    # infrastructure-design.md:1821-1833, one 4-hour World Cup event.
    "world-cup-event": _t(
        ("Cloud Run", "compute", 47_000, "4 h burst"),
        ("Redis", "compute", 1_200, ""),
        ("networking", "networking", 31_000, ""),
    ),
    # DEPLOYMENT_GUIDE.md:887-892, a 3-hour World Cup 50x.
    "world-cup-3h": _t(
        ("Cloud Run", "compute", 80_000, "3 h at 50x"),
        ("database", "compute", 2_000, ""),
        ("Redis", "compute", 500, ""),
        ("networking", "networking", 5_000, ""),
    ),
    # scaling-strategy.md:708-876, the savings it lists against ~$4.0M.
    "scaling-strategy-savings": _t(
        ("Cloud Run CUD (8M of 10M vCPU-h, 3 yr, 37%)", "compute", 374_000, ""),
        ("Redis CUD (1,500 of 1,920 GB, 1 yr, 20%)", "compute", 11_500, ""),
        ("custom networking contract", "networking", 330_000, ""),
        ("off-peak right-sizing", "compute", 168_000, ""),
        ("faster scale-down", "compute", 63_000, ""),
        ("CDN hit rate 60 -> 75 %", "networking", 60_000, ""),
        ("cost-aware routing", "compute", 126_000, ""),
    ),
}

# What the original states each table comes to.
TOTALS: Mapping[str, float] = {
    "baseline": 4_026_500,
    "optimized": 2_752_000,
    "deployment-guide": 2_750_000,
    "world-cup-event": 79_200,
    "world-cup-3h": 88_000,
    "scaling-strategy-savings": 1_147_000,
}

# src/burst-scaling/README.md:399-412: (instances, $/h, $/day, $/month).
BURST_README: Mapping[str, tuple[int, float, float, float]] = {
    "baseline": (30, 45, 1_080, 32_400),
    "normal": (150, 225, 5_400, 162_000),
    "10x": (600, 900, 21_600, 648_000),
    "25x": (1_500, 2_250, 54_000, 1_620_000),
    "50x": (3_000, 4_500, 108_000, 3_240_000),
}

STREAMS = 500e6
HOURS_PER_MONTH = 730.0


def total(table: str) -> float:
    return float(sum(i.dollars for i in COST_TABLES[table]))


def group_total(table: str, group: str) -> float:
    return float(sum(i.dollars for i in COST_TABLES[table] if i.group == group))


@dataclass(frozen=True, slots=True)
class Inconsistency:
    """``stated`` is the original's figure, ``computed`` what its own inputs give."""

    name: str
    stated: float
    computed: float
    note: str


def inconsistencies() -> list[Inconsistency]:
    base, opt = total("baseline"), total("optimized")
    compute_cut = 1 - opt_group("compute") / group_total("baseline", "compute")
    network_cut = 1 - opt_group("networking") / group_total("baseline", "networking")
    vcpu_hours = 5000 * 4 * HOURS_PER_MONTH
    mrq = base / 4.84  # million requests a month the $4.84/M implies
    return [
        Inconsistency(
            "streams held by the baseline fleet",
            STREAMS,
            5000 * 100,
            "5,000 instances x 100 concurrent is 500,000 streams, not 500M "
            "(the per-hub 800 x 100 = '80M' is off 1000x)",
        ),
        Inconsistency(
            "two $2.75M breakdowns",
            opt,
            total("deployment-guide"),
            "infra design: compute $876K + networking $1.83M; deployment guide: "
            "Cloud Run alone $2.4M, LB + CDN $80K: different items, same total",
        ),
        Inconsistency(
            "'30%' compute saving",
            0.30,
            compute_cut,
            f"compute falls from ${group_total('baseline', 'compute'):,.0f} to "
            f"${opt_group('compute'):,.0f}",
        ),
        Inconsistency("'30%' networking saving", 0.30, network_cut, "LB + CDN + VPC"),
        Inconsistency("saving claimed 31.7%", 0.317, (base - opt) / base, "arithmetic holds"),
        Inconsistency(
            "scaling-strategy savings",
            TOTALS["scaling-strategy-savings"],
            total("scaling-strategy-savings"),
            "its listed items sum to less than its stated total ($2,853,000, 28.7%)",
        ),
        Inconsistency(
            "3-hour vs 4-hour World Cup",
            TOTALS["world-cup-event"],
            total("world-cup-3h"),
            "the shorter event costs more",
        ),
        Inconsistency(
            "Cloud Run vCPU-hours",
            1_263_000,
            vcpu_hours * 3600 * 0.000024,
            "5,000 x 4 vCPU x 730 h x 3600 s x $0.000024 = $1,261,440",
        ),
        Inconsistency(
            "Redis size",
            1920,
            5 * 256 + 10 * 128,
            "1,920 GB = 15 x 128 GB ignores the tier-1 hubs' 256 GB",
        ),
        Inconsistency(
            "$4.84 per million requests",
            50e6,
            mrq * 1e6 / (HOURS_PER_MONTH * 3600),
            "implies ~316,600 q/s on average; the benchmark's 500M x 0.1 is 50M q/s "
            "(which would make it $0.03 per million)",
        ),
        Inconsistency(
            "burst README price per instance-hour",
            0.50,
            BURST_README["baseline"][1] / BURST_README["baseline"][0],
            "its table implies $1.50; the same page and the code say $0.50-0.65",
        ),
        Inconsistency(
            "baseline per day vs daily budget",
            240_000,
            200_000,
            "the stated $240K/day baseline exceeds the $200K/day budget",
        ),
    ]


def opt_group(group: str) -> float:
    return group_total("optimized", group)


def per_stream_month(table: str) -> float:
    return total(table) / STREAMS
