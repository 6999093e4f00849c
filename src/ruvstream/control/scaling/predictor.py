"""The burst predictor: calendar + forecast -> instances each region needs soon.

For a region at time ``now`` the predictor looks ``lead`` seconds ahead,
where ``lead`` = measured node start-up + a margin: capacity ordered now is
serving by then, so the prediction covers the highest demand expected in
``[now, now + lead]``. Demand at a moment is the region's forecast baseline
times the strongest calendar event hitting the region then (events do not
multiply each other). An event with an ``expected_audience`` sizes its own
peak (its audience shared evenly over its regions, in streams) instead of
the pattern's average multiplier (and, with no baseline yet, sets the
streams alone).

Once an event is running, the predictor measures how big it is turning out:
the observed excess over the baseline against the pattern's, smoothed with
a ``calibration_seconds`` (300 s) time constant from the start on and kept within 0.5-2x, scales
the rest of the event's excess. The original fitted its patterns to actual
peaks after the fact (``trainModel``, an 0.8/0.2 moving average); doing it
while the event runs lets the same event's later capacity follow. It needs a
baseline that does not come from the event itself (a forecast from earlier
days); with only the event's own history it has nothing to compare with and
leaves the pattern as it is.

The baseline comes from a per-region history of observed demand in
``bucket_seconds`` buckets, forecast by ``forecast.forecast`` (Holt-Winters
or seasonal-naive) and refitted every ``refit_seconds``. Observations made
while a known event runs are divided by the event's expected multiplier
before they enter the history, so a burst the calendar explains does not
inflate the baseline it is multiplied with.

Confidence: an event's comes from its pattern (0.9 for the original's four
patterns, 0.5 for its conservative fallback, +0.05 with a known audience, as
``burst-predictor.ts:214-233`` meant it). A forecast's is 1 - sMAPE/2 of its
previous forecast against what then happened, or a prior by method before
there is a previous one. The orchestrator ignores predictions below its
``min_confidence``.

Defaults: 5-minute buckets and a daily season (the utilisation traces'
resolution); 14 days of history, a 48-hour forecast and a refit every 6
hours (AWS predictive scaling analyses up to 14 days, forecasts 48 h and
re-forecasts every 6 h); a 60 s pre-warm margin over the start-up, instead
of AWS's fixed 300 s scheduling buffer or the original's 900 s, because the
lead here is derived from the measured start-up.
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass, field

import numpy as np

from . import forecast as fc
from .calendar import Calendar, ResolvedEvent
from .sizing import NodeCapacity

__all__ = ["Prediction", "Predictor", "PredictorConfig", "PrewarmStep"]

_MIN_CALIBRATION_SHARE = 0.1
_SCALE_BOUNDS = (0.5, 2.0)
_PRIOR_CONFIDENCE = {"holt-winters": 0.7, "seasonal-naive": 0.6, "naive": 0.5, "empty": 0.0}


@dataclass(frozen=True, slots=True)
class PredictorConfig:
    bucket_seconds: float = 300.0
    season_seconds: float = 86400.0
    history_seconds: float = 14 * 86400.0
    forecast_horizon_seconds: float = 48 * 3600.0
    refit_seconds: float = 6 * 3600.0
    prewarm_margin_seconds: float = 60.0
    calibration_seconds: float = 300.0

    @property
    def season_buckets(self) -> int:
        return max(1, round(self.season_seconds / self.bucket_seconds))


@dataclass(frozen=True, slots=True)
class Prediction:
    """Peak demand expected in ``[t, t + lead_seconds]`` and the instances it needs.

    ``source`` is ``event`` (a calendar event raises demand in the horizon),
    ``forecast`` (the baseline alone) or ``none`` (no history yet).
    """

    region: str
    t: float
    lead_seconds: float
    qps: float
    streams: float
    instances: int
    confidence: float
    source: str
    event_id: str | None = None
    method: str = "empty"


@dataclass(frozen=True, slots=True)
class PrewarmStep:
    """When to start warming a region for an event (one lead before its audience
    starts to arrive), and to how many instances its peak needs."""

    event_id: str
    region: str
    prewarm_at: float
    start: float
    instances: int


@dataclass
class _Fit:
    first_bucket: int  # bucket index of values[0]
    qps: np.ndarray
    streams: np.ndarray
    method: str
    fitted_at: float
    confidence: float


@dataclass
class _History:
    buckets: deque[tuple[int, float, float, int]] = field(default_factory=deque)
    fit: _Fit | None = None


class Predictor:
    """Pure: observations and a time in, predictions out. Not thread-safe."""

    def __init__(
        self,
        calendar: Calendar,
        node: NodeCapacity,
        config: PredictorConfig | None = None,
    ) -> None:
        self.calendar = calendar
        self.node = node
        self.config = config or PredictorConfig()
        self._history: dict[str, _History] = {}
        self._scale: dict[tuple[str, str], tuple[float, float]] = {}  # (event, region) -> (k, t)

    @property
    def lead_seconds(self) -> float:
        return self.node.startup_seconds + self.config.prewarm_margin_seconds

    def observe(self, region: str, t: float, qps: float, streams: float) -> None:
        """Add one observation of demand (de-eventised, into its bucket)."""
        self._calibrate(region, t, qps)
        m = self._multiplier(region, t)
        qps, streams = max(0.0, qps) / m, max(0.0, streams) / m
        h = self._history.setdefault(region, _History())
        index = math.floor(t / self.config.bucket_seconds)
        if h.buckets and h.buckets[-1][0] == index:
            _, q, s, n = h.buckets[-1]
            h.buckets[-1] = (index, q + qps, s + streams, n + 1)
        else:
            h.buckets.append((index, qps, streams, 1))
        keep = self.config.history_seconds / self.config.bucket_seconds
        while h.buckets and h.buckets[0][0] <= index - keep:
            h.buckets.popleft()

    def predict(self, region: str, now: float) -> Prediction:
        lead = self.lead_seconds
        fit = self._fit(region, now)
        events = self.calendar.overlapping(now, now + lead, region)
        peak_qps = peak_streams = 0.0
        top: ResolvedEvent | None = None
        top_m = 1.0
        for tau in self._probe_times(now, now + lead, events):
            base_q, base_s = self._baseline(fit, tau)
            m, event = self._strongest(events, region, tau, base_s)
            peak_qps = max(peak_qps, base_q * m)
            peak_streams = max(peak_streams, base_s * m, _audience(events, region, tau))
            if event is not None and m > top_m:
                top, top_m = event, m
        if top is not None:
            confidence, source, event_id = top.confidence, "event", top.event.id
        elif fit is not None:
            confidence, source, event_id = fit.confidence, "forecast", None
        else:
            confidence, source, event_id = 0.0, "none", None
        return Prediction(
            region=region,
            t=now,
            lead_seconds=lead,
            qps=peak_qps,
            streams=peak_streams,
            instances=self.node.instances_for(peak_qps, peak_streams),
            confidence=confidence,
            source=source,
            event_id=event_id,
            method=fit.method if fit else "empty",
        )

    def schedule(self, now: float, lookahead_seconds: float = 86400.0) -> list[PrewarmStep]:
        """Pre-warm steps for events starting within ``lookahead`` (the original's 24 h)."""
        steps = []
        for event in self.calendar.upcoming(now, lookahead_seconds):
            for region in event.regions:
                fit = self._fit(region, now)
                peak_t = event.start + event.pattern.peak_offset_seconds * (
                    event.duration_seconds / event.pattern.duration_seconds
                )
                base_q, base_s = self._baseline(fit, peak_t)
                m = self._event_multiplier(event, region, base_s, peak_t)
                streams = max(base_s * m, _audience([event], region, peak_t))
                instances = self.node.instances_for(base_q * m, streams)
                steps.append(
                    PrewarmStep(
                        event.event.id,
                        region,
                        event.begin - self.lead_seconds,
                        event.start,
                        instances,
                    )
                )
        return steps

    # -- baseline ------------------------------------------------------------------

    def _fit(self, region: str, now: float) -> _Fit | None:
        h = self._history.get(region)
        if h is None or not h.buckets:
            return None
        c = self.config
        last_complete = math.floor(now / c.bucket_seconds) - 1
        if h.buckets[0][0] > last_complete:
            # Only the bucket in progress so far: its mean is the (naive) baseline.
            _, q, s, n = h.buckets[-1]
            one = np.ones(1)
            return _Fit(last_complete + 1, one * q / n, one * s / n, "naive", now, 0.5)
        fit = h.fit
        stale = fit is None or (
            fit.first_bucket <= last_complete
            and (fit.method != "holt-winters" or now - fit.fitted_at >= c.refit_seconds)
        )
        if stale:
            h.fit = self._refit(h, last_complete, now)
        return h.fit

    def _refit(self, h: _History, last_complete: int, now: float) -> _Fit | None:
        c = self.config
        series = _dense([b for b in h.buckets if b[0] <= last_complete], last_complete)
        if series is None:
            return None
        qps, streams = series
        steps = max(1, math.ceil(c.forecast_horizon_seconds / c.bucket_seconds))
        season = c.season_buckets
        fq, fs = fc.forecast(qps, season, steps), fc.forecast(streams, season, steps)
        method = fq.method if fq.method == fs.method else "seasonal-naive"
        confidence = _PRIOR_CONFIDENCE[method]
        old = h.fit
        if old is not None:
            seen = np.arange(old.first_bucket, last_complete + 1) - old.first_bucket
            seen = seen[seen < old.qps.size]
            if seen.size:
                actual = qps[qps.size - seen.size :]
                confidence = max(0.0, 1.0 - fc.smape(actual, old.qps[seen]) / 2)
        return _Fit(last_complete + 1, fq.values, fs.values, method, now, confidence)

    def _baseline(self, fit: _Fit | None, tau: float) -> tuple[float, float]:
        if fit is None:
            return 0.0, 0.0
        i = math.floor(tau / self.config.bucket_seconds) - fit.first_bucket
        i = min(max(i, 0), fit.qps.size - 1)
        return float(fit.qps[i]), float(fit.streams[i])

    # -- events --------------------------------------------------------------------

    def _probe_times(self, t0: float, t1: float, events: list[ResolvedEvent]) -> list[float]:
        """Where the peak over [t0, t1] can be: the ends, bucket edges, event corners."""
        times = {t0, t1}
        b = self.config.bucket_seconds
        edge = (math.floor(t0 / b) + 1) * b
        while edge < t1:
            times.add(edge)
            edge += b
        for e in events:
            scale = e.duration_seconds / e.pattern.duration_seconds
            for corner in (e.begin, e.start, e.start + e.pattern.peak_offset_seconds * scale):
                if t0 <= corner <= t1:
                    times.add(corner)
        return sorted(times)

    def _strongest(
        self, events: list[ResolvedEvent], region: str, tau: float, base_streams: float
    ) -> tuple[float, ResolvedEvent | None]:
        best, which = 1.0, None
        for e in events:
            m = self._event_multiplier(e, region, base_streams, tau)
            if m > best:
                best, which = m, e
        return best, which

    def _event_multiplier(
        self, e: ResolvedEvent, region: str, base_streams: float, tau: float
    ) -> float:
        if region not in e.regions:
            return 1.0
        peak = e.multiplier
        audience = e.event.expected_audience
        if audience is not None and base_streams > 0:
            peak = max(1.0, audience / len(e.regions) / base_streams)
        share = e.pattern.shape(tau - e.start, e.duration_seconds)
        return 1.0 + (peak - 1.0) * share * self.scale(e.event.id, region)

    def _multiplier(self, region: str, t: float) -> float:
        """The calendar's expected multiplier at ``t`` (pattern figures, no audience)."""
        best = 1.0
        for e in self.calendar.overlapping(t, t, region):
            share = e.pattern.shape(t - e.start, e.duration_seconds)
            best = max(best, 1.0 + (e.multiplier - 1.0) * share * self.scale(e.event.id, region))
        return best

    def scale(self, event_id: str, region: str) -> float:
        """How big the event is turning out against its pattern (1.0 until it is seen)."""
        return self._scale.get((event_id, region), (1.0, 0.0))[0]

    def _calibrate(self, region: str, t: float, qps: float) -> None:
        """Move the running event's scale towards observed excess / expected excess."""
        events = self.calendar.overlapping(t, t, region)
        if len(events) != 1:
            return  # none running, or the excess cannot be told apart
        e = events[0]
        share = e.pattern.shape(t - e.start, e.duration_seconds)
        fit = self._fit(region, t)
        base = self._baseline(fit, t)[0]
        expected = (e.multiplier - 1.0) * share * base
        if t < e.start or share < _MIN_CALIBRATION_SHARE or expected <= 0:
            return  # the arrival ramp is too sensitive to when people tune in
        ratio = min(max((qps - base) / expected, 0.25), 4.0)
        key = (e.event.id, region)
        k, last = self._scale.get(key, (1.0, t))
        alpha = 1.0 - math.exp(-max(0.0, t - last) / self.config.calibration_seconds)
        k = min(max(k + alpha * (ratio - k), _SCALE_BOUNDS[0]), _SCALE_BOUNDS[1])
        self._scale[key] = (k, t)


def _audience(events: list[ResolvedEvent], region: str, tau: float) -> float:
    """Streams the events' expected audiences bring to ``region`` at ``tau`` (shaped)."""
    best = 0.0
    for e in events:
        audience = e.event.expected_audience
        if audience and region in e.regions:
            share = e.pattern.shape(tau - e.start, e.duration_seconds)
            best = max(best, audience / len(e.regions) * share)
    return best


def _dense(
    buckets: list[tuple[int, float, float, int]], last: int
) -> tuple[np.ndarray, np.ndarray] | None:
    """Bucket means as arrays from the first bucket to ``last``, gaps carried forward."""
    if not buckets:
        return None
    first = buckets[0][0]
    qps = np.full(last - first + 1, np.nan)
    streams = np.full(last - first + 1, np.nan)
    for index, q, s, n in buckets:
        qps[index - first] = q / n
        streams[index - first] = s / n
    return qps, streams
