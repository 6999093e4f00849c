"""Bursty load traces with a calendar event in them, generated from a seed.

Each scenario is one of the calendar's patterns (a World Cup final, a
release, a concert, a launch). A trace covers ``hours`` of a day (at least
the event and 90 minutes after it) in the event's regions plus the original
design's default regions: a diurnal
baseline per region (+-30 % around its mean, phase by region), 5 % noise per
10-second row, and the event's real burst, which differs from what the
calendar says: its peak multiplier is the pattern's x U(0.85, 1.15) (kept in
10-50x), it starts U(-60, +60) s from the scheduled time, its audience
arrives over U(240, 360) s before that, its onset share is U(0.4, 0.6) and
its peak comes U(0.9, 1.1) x the pattern's offset. One unpredicted "news"
burst (3-5x for 10 minutes, outside the event, in a region of its own)
is added so that the reactive path is exercised in both modes.

Two days of baseline before the window come with the trace as history,
the demand a leader would have seen; the predictor is seeded with it so its
Holt-Winters forecast is fitted, as it would be in production.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ruvstream.control.scaling import PATTERNS, Calendar, CalendarEvent, Trace, TraceRow

__all__ = ["SCENARIOS", "BurstTrace", "bursty_trace"]

SCENARIOS = tuple(PATTERNS)
DEFAULT_REGIONS = ("us-central1", "europe-west1", "asia-east1")
# Mean searches per second per region: a mid-size fleet (4-6 nodes at the baseline).
BASE_QPS = {
    "us-central1": 24_000.0,
    "europe-west1": 18_000.0,
    "asia-east1": 14_000.0,
    "southamerica-east1": 9_000.0,
}
STREAMS_PER_QPS = 0.3
ROW_SECONDS = 10.0
DAY = 86_400.0


@dataclass(frozen=True)
class BurstTrace:
    scenario: str
    seed: int
    start: float  # wall time of t_seconds 0
    trace: Trace
    calendar: Calendar
    history: list[tuple[str, float, float, float]]
    actual_multiplier: float
    unpredicted_region: str


def bursty_trace(scenario: str, seed: int, hours: float = 6.0) -> BurstTrace:
    rng = np.random.default_rng(seed)
    pattern = PATTERNS[scenario]
    start = 1_784_419_200.0  # 2026-07-19T00:00:00Z
    event_t = 2 * 3600.0 + float(rng.uniform(0, 1800))  # 2:00-2:30 into the window
    # Long enough for the whole event and an hour and a half after it.
    hours = max(hours, (event_t + pattern.duration_seconds) / 3600 + 1.5)
    regions = sorted({*DEFAULT_REGIONS, *pattern.regions})
    calendar = Calendar.of(
        [CalendarEvent(f"{scenario}-{seed}", scenario, scenario, start + event_t)]
    )
    m = float(np.clip(pattern.multiplier * rng.uniform(0.85, 1.15), 10, 50))
    real = _RealBurst(
        start=event_t + float(rng.uniform(-60, 60)),
        arrival=float(rng.uniform(240, 360)),
        onset=float(rng.uniform(0.4, 0.6)),
        peak=pattern.peak_offset_seconds * float(rng.uniform(0.9, 1.1)),
        duration=pattern.duration_seconds,
        multiplier=m,
    )
    quiet = [r for r in regions if r not in pattern.regions] or regions
    news_region = quiet[int(rng.integers(len(quiet)))]
    news_t = float(rng.uniform(real.start + real.duration + 600, hours * 3600 - 1200))
    news_m = float(rng.uniform(3, 5))
    rows: list[TraceRow] = []
    history: list[tuple[str, float, float, float]] = []
    for region in regions:
        phase = float(rng.uniform(0, 2 * math.pi))
        t = np.arange(0, hours * 3600 + ROW_SECONDS / 2, ROW_SECONDS)
        qps = _diurnal(region, start + t, phase) * rng.lognormal(0, 0.05, t.size)
        if region in pattern.regions:
            qps *= np.array([real.at(float(x)) for x in t])
        if region == news_region:
            qps[(t >= news_t) & (t < news_t + 600)] *= news_m
        rows.extend(
            TraceRow(float(x), region, float(q), float(q) * STREAMS_PER_QPS)
            for x, q in zip(t, qps, strict=True)
        )
        past = np.arange(-2 * DAY, 0, 60.0)
        old = _diurnal(region, start + past, phase) * rng.lognormal(0, 0.05, past.size)
        history.extend(
            (region, start + float(x), float(q), float(q) * STREAMS_PER_QPS)
            for x, q in zip(past, old, strict=True)
        )
    return BurstTrace(scenario, seed, start, Trace(rows), calendar, history, m, news_region)


def _diurnal(region: str, wall: np.ndarray, phase: float) -> np.ndarray:
    mean = BASE_QPS.get(region, 10_000.0)
    return mean * (1 + 0.3 * np.sin(2 * np.pi * wall / DAY + phase))


@dataclass(frozen=True)
class _RealBurst:
    start: float
    arrival: float
    onset: float
    peak: float
    duration: float
    multiplier: float

    def at(self, t: float) -> float:
        x = t - self.start
        if x < -self.arrival or x >= self.duration:
            share = 0.0
        elif x < 0:
            share = self.onset * (x + self.arrival) / self.arrival
        elif x <= self.peak:
            share = self.onset + (1 - self.onset) * x / self.peak
        else:
            share = (self.duration - x) / (self.duration - self.peak)
        return 1 + (self.multiplier - 1) * share
