"""The traffic shapes: baseline, daily peak, World Cup 50x, product launch, flash crowd,
region failure and cascade, as data.

A scenario gives, at each second of the run, each region's burst audience
(``extra`` streams over its baseline) and which regions are down. Its
figures come from the original design's load-test scenarios
(``LOAD_TEST_SCENARIOS.md``, inventory 1.13): the World Cup's stages and
regional split, the product launch's and flash crowd's stages, the failure
times. Multipliers are over the worldwide baseline; ``shares`` split the
extra audience over regions (default: the baseline's own split).

Planned events (World Cup, product launch) start after a 30-minute lead-in
and are in the calendar, so the predictor can pre-warm for them; the flash
crowd is not (nobody knew), and its region is drawn from the seed.
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from dataclasses import dataclass, field

from ruvstream.geo import REGIONS, rank_by_rtt, region_names

from ._traffic import baseline_shares, normalised, piecewise

__all__ = ["SCENARIOS", "Scenario"]

_LEAD_IN = 1800.0
_M = 60.0


@dataclass(frozen=True, slots=True)
class Scenario:
    """One traffic shape. ``multiplier`` points are (seconds after ``event_start``,
    worldwide load over baseline); ``failures`` are (region, seconds into the run)."""

    name: str
    title: str
    duration_seconds: float
    tick_seconds: float
    multiplier: tuple[tuple[float, float], ...] = ((0.0, 1.0),)
    shares: Mapping[str, float] = field(default_factory=dict)
    event_start: float = 0.0
    planned: bool = False
    daily: bool = False
    flash: bool = False
    failures: tuple[tuple[str, float], ...] = ()

    @property
    def event_seconds(self) -> float:
        return self.multiplier[-1][0]

    @property
    def peak_multiplier(self) -> float:
        return max(v for _, v in self.multiplier)

    def burst_shares(self, seed: int) -> dict[str, float]:
        """Where the extra audience goes; the flash crowd's region comes from ``seed``."""
        if self.flash:
            hubs = sorted(r.name for r in REGIONS if r.tier == 1)
            hit = random.Random(seed).choice(hubs)
            base = baseline_shares()
            return {r: 0.4 * s + (0.6 if r == hit else 0.0) for r, s in base.items()}
        return normalised(dict(self.shares)) if self.shares else baseline_shares()

    def extra(
        self, t: float, base: Mapping[str, float], shares: Mapping[str, float]
    ) -> dict[str, float]:
        """Each region's burst audience (streams over its baseline) at ``t``."""
        if self.daily:
            return {r: b * 0.5 * _evening(_local_hour(r, t)) for r, b in base.items()}
        m = piecewise(self.multiplier, t - self.event_start)
        total = sum(base.values())
        return {r: max(0.0, m - 1.0) * total * shares.get(r, 0.0) for r in base}

    def down(self, t: float) -> tuple[str, ...]:
        return tuple(r for r, at in self.failures if t >= at)


def failover(
    load: Mapping[str, tuple[float, float]], down: tuple[str, ...]
) -> dict[str, tuple[float, float]]:
    """A down region's load moves to its two nearest healthy regions, half each."""
    out = {r: (0.0, 0.0) if r in down else v for r, v in load.items()}
    healthy = [r for r in load if r not in down]
    for r in down:
        qps, streams = load[r]
        near = rank_by_rtt(r, healthy)[:2]
        for n in near:
            q, s = out[n]
            out[n] = (q + qps / len(near), s + streams / len(near))
    return out


def _local_hour(name: str, t: float) -> float:
    lon = next(r.lon for r in REGIONS if r.name == name)
    return (t / 3600.0 + lon / 15.0) % 24.0


def _evening(hour: float) -> float:
    """1 from 18:00 to 22:00 local, ramping over the hour either side, else 0."""
    if 18.0 <= hour <= 22.0:
        return 1.0
    if 17.0 < hour < 18.0:
        return hour - 17.0
    if 22.0 < hour < 23.0:
        return 23.0 - hour
    return 0.0


def _even(names: tuple[str, ...], share: float) -> dict[str, float]:
    return {n: share / len(names) for n in names}


def _apac() -> tuple[str, ...]:
    return tuple(r.name for r in REGIONS if r.continent == "apac")


# LOAD_TEST_SCENARIOS.md 2.1: France 40 %, Argentina 35 %, ES/IT/PT 10 %, rest of
# Europe 8 %, Americas 5 %, APAC 2 %; France is europe-west3 there, Argentina's
# nearest region southamerica-east1, Iberia and Italy europe-west1.
_WORLD_CUP_SHARES = {
    "europe-west3": 0.40,
    "southamerica-east1": 0.35,
    "europe-west1": 0.10,
    **_even(("europe-west2", "europe-north1", "me-west1"), 0.08),
    **_even(("us-central1", "us-east1", "us-west1", "northamerica-northeast1"), 0.05),
    **_even(_apac(), 0.02),
}
_US = ("us-central1", "us-east1", "us-west1", "northamerica-northeast1")
_LAUNCH_SHARES = {
    **_even(_US, 0.8),
    **_even(tuple(n for n in region_names() if n not in _US), 0.2),
}


def _stages(*points: tuple[float, float]) -> tuple[tuple[float, float], ...]:
    """Stage list (minutes after the event start, multiplier) as seconds."""
    return tuple((m * _M, v) for m, v in points)


SCENARIOS: Mapping[str, Scenario] = {
    s.name: s
    for s in (
        Scenario("baseline", "Steady state, 500M streams", 3600.0, 10.0),
        Scenario(
            "daily-peak",
            "Daily peak: 1.5x from 18:00 to 22:00 local in each region",
            86400.0,
            60.0,
            daily=True,
        ),
        Scenario(
            "world-cup",
            "World Cup final, 50x (60x at the end), Europe and South America",
            _LEAD_IN + 240 * _M + 1800.0,
            10.0,
            _stages(
                (0, 1),
                (30, 10),
                (45, 50),
                (90, 50),
                (105, 30),
                (150, 50),
                (180, 60),
                (210, 20),
                (240, 1),
            ),
            _WORLD_CUP_SHARES,
            _LEAD_IN,
            planned=True,
        ),
        Scenario(
            "product-launch",
            "Product launch, 10x, US-concentrated",
            _LEAD_IN + 120 * _M + 1800.0,
            10.0,
            _stages((0, 1), (5, 10), (35, 10), (80, 6), (120, 1)),
            _LAUNCH_SHARES,
            _LEAD_IN,
            planned=True,
        ),
        Scenario(
            "flash-crowd",
            "Flash crowd, 25x in 2 minutes, unannounced, one hub",
            _LEAD_IN + 90 * _M + 1800.0,
            10.0,
            _stages((0, 1), (2, 25), (32, 25), (62, 15), (90, 1)),
            event_start=_LEAD_IN,
            flash=True,
        ),
        Scenario(
            "region-failure",
            "europe-west1 fails at 30 minutes",
            3600.0,
            10.0,
            failures=(("europe-west1", 1800.0),),
        ),
        Scenario(
            "cascade",
            "europe-west1 fails at 30 minutes, europe-west3 at 45",
            7200.0,
            10.0,
            failures=(("europe-west1", 1800.0), ("europe-west3", 2700.0)),
        ),
    )
}
