"""The reactive scaler: instances from observed load, Knative's stable/panic windows.

Each sample turns each metric into a count: concurrency as Knative does
(total in flight / target per instance), CPU and memory as the HPA does
(ready x observed / target), p99 latency and error rate as scale-out-only
votes (ready x observed / target, capped at ``max_signal_ratio``; a sample
under target votes for the ready count, and a window with no sample over
target casts no vote at all: latency says "more", never how far to shrink).
The scaler averages those counts over a stable window (60 s) and a panic
window (6 s); averaging counts rather than utilisations keeps a window that
spans new instances arriving from mixing old utilisation with the new
ready count. The largest vote wins (HPA, several metrics).

Panic (Knative ``autoscaler.go``): when the panic-window count of the load
metrics (concurrency, CPU, memory; latency and errors never cause panic) is
at least ``panic_threshold`` (200 %) of the ready instances, the region panics; it
stays in panic until it has been under the threshold for a whole stable
window. In panic the count follows the faster window and never goes down.

Scale-out is rapid (up to ``max_scale_up_rate`` x ready per tick, Knative's
1000) and outside panic at most once per ``scale_out_cooldown_seconds``.
Scale-in is gradual and guarded: never in panic, never before a full stable
window has been observed (a restart without saved state is conservative, as
Knative's new autoscaler starts in panic, knative/serving#4795), never
within ``scale_in_cooldown_seconds`` of the last change, never below the
highest panic-window count seen in the last ``scale_in_stabilization_seconds``
(the HPA's scale-down stabilisation over short-window recommendations), and
at most ``max_scale_down_rate`` (halve) per step. Changes within
``tolerance`` (HPA's 10 %) are not made.

Defaults and where they come from: windows, panic threshold and rates from
Knative's config-autoscaler; CPU 0.70, memory 0.75, p99 50 ms and error
rate 1 % targets from the original design (``reactive-scaler.ts:72-80``);
concurrency 70 per instance from Knative (100 x 70 %); scale-in cooldown
300 s from the original (which never applied it, inventory B5) and AWS's
default cooldown; scale-out cooldown 30 s from the original design's docs
(``scaling-strategy.md:196-250``); stabilisation 300 s and tolerance 0.1
from the HPA.

The scaler is pure: samples in, decisions out, time from the sample
timestamps the caller passes. ``export_state``/``import_state`` carry
everything a restart needs (windows, panic, cooldowns) as JSON bytes.
"""

from __future__ import annotations

import json
import math
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from .sizing import ceil_int

__all__ = [
    "ReactiveConfig",
    "ReactiveDecision",
    "ReactiveScaler",
    "ReactiveTargets",
    "RegionSample",
]

STATE_VERSION = 1
_METRICS = ("concurrency", "cpu", "memory", "p99_ms", "error_rate")
_OUT_ONLY = ("p99_ms", "error_rate")


@dataclass(frozen=True, slots=True)
class ReactiveTargets:
    """Per-instance targets; ``None`` switches a metric off."""

    concurrency_per_instance: float | None = 70.0
    cpu: float | None = 0.70
    memory: float | None = 0.75
    p99_ms: float | None = 50.0
    error_rate: float | None = 0.01


@dataclass(frozen=True, slots=True)
class ReactiveConfig:
    targets: ReactiveTargets = field(default_factory=ReactiveTargets)
    stable_window_seconds: float = 60.0
    panic_window_seconds: float = 6.0
    panic_threshold: float = 2.0
    max_scale_up_rate: float = 1000.0
    max_scale_down_rate: float = 2.0
    scale_out_cooldown_seconds: float = 30.0
    scale_in_cooldown_seconds: float = 300.0
    scale_in_stabilization_seconds: float = 300.0
    tolerance: float = 0.1
    max_signal_ratio: float = 2.0

    def __post_init__(self) -> None:
        if not 0 < self.panic_window_seconds <= self.stable_window_seconds:
            raise ValueError("need 0 < panic_window_seconds <= stable_window_seconds")
        if self.max_scale_up_rate < 1 or self.max_scale_down_rate < 1:
            raise ValueError("max_scale_up_rate and max_scale_down_rate must be >= 1")


@dataclass(frozen=True, slots=True)
class RegionSample:
    """What a region reports for one tick (the figures nodes export on /metrics).

    ``instances`` are billed ones (ready + starting); ``concurrency`` is the
    region's total in flight; ``cpu`` and ``memory`` are means over ready
    nodes (0..1); ``offered_qps`` and ``streams`` feed the predictor's history.
    """

    region: str
    t: float
    ready_instances: int
    instances: int
    concurrency: float = 0.0
    cpu: float = 0.0
    memory: float = 0.0
    p99_ms: float = 0.0
    error_rate: float = 0.0
    offered_qps: float = 0.0
    streams: float = 0.0


@dataclass(frozen=True, slots=True)
class ReactiveDecision:
    """``reason``: scale-out, panic, scale-in, hold, tolerance, cooldown, stabilizing,
    warming-up (no scale-in before a full stable window), no-data."""

    region: str
    desired: int
    current: int
    in_panic: bool
    reason: str
    signals: Mapping[str, int]


class _Sums:
    """Per-metric sum of |count|, number of votes and of over-target votes in a window."""

    __slots__ = ("counts", "overs", "sums")

    def __init__(self) -> None:
        self.sums = [0.0] * len(_METRICS)
        self.counts = [0] * len(_METRICS)
        self.overs = [0] * len(_METRICS)

    def add(self, sample: tuple[float, ...], sign: int = 1) -> None:
        for i in range(len(_METRICS)):
            v = sample[2 + i]
            if v != v:  # NaN: the metric is off
                continue
            self.sums[i] += sign * abs(v)
            self.counts[i] += sign
            if v >= 0:
                self.overs[i] += sign

    def votes(self) -> dict[str, int]:
        out = {}
        for i, name in enumerate(_METRICS):
            if self.counts[i] and (self.overs[i] or name not in _OUT_ONLY):
                out[name] = ceil_int(self.sums[i] / self.counts[i])
        return out


@dataclass
class _Region:
    samples: deque[tuple[float, ...]] = field(default_factory=deque)
    stable: _Sums = field(default_factory=_Sums)
    recommendations: deque[tuple[float, int]] = field(default_factory=deque)
    current: int | None = None
    observed_since: float | None = None
    panic_since: float | None = None
    last_scale_out: float | None = None
    last_change: float | None = None


class ReactiveScaler:
    """Desired instances per region from the last minute of samples. Not thread-safe."""

    def __init__(self, config: ReactiveConfig | None = None) -> None:
        self.config = config or ReactiveConfig()
        self._regions: dict[str, _Region] = {}

    def observe(self, sample: RegionSample) -> None:
        st = self._regions.setdefault(sample.region, _Region())
        if st.observed_since is None:
            st.observed_since = sample.t
        if st.current is None:
            st.current = sample.instances
        votes = self._sample_votes(sample)
        st.samples.append(votes)
        st.stable.add(votes)
        self._evict(st, sample.t)

    def _evict(self, st: _Region, now: float) -> None:
        horizon = now - self.config.stable_window_seconds
        while st.samples and st.samples[0][0] <= horizon:
            st.stable.add(st.samples.popleft(), -1)

    def in_panic(self, region: str) -> bool:
        st = self._regions.get(region)
        return st is not None and st.panic_since is not None

    def current(self, region: str) -> int | None:
        st = self._regions.get(region)
        return None if st is None else st.current

    def set_current(self, region: str, instances: int) -> None:
        """Tell the scaler what was actually set (after limits and budget trimmed it)."""
        st = self._regions.setdefault(region, _Region())
        st.current = instances

    def decide(self, region: str, now: float) -> ReactiveDecision:
        st = self._regions.get(region)
        if st is not None:
            self._evict(st, now)  # a region that stopped reporting holds, on no stale data
        if st is None or not st.samples or st.current is None:
            current = 0 if st is None or st.current is None else st.current
            return ReactiveDecision(region, current, current, False, "no-data", {})
        c = self.config
        ready = max(1, int(st.samples[-1][1]))
        stable_votes = st.stable.votes()
        panic_votes = self._votes(st.samples, now - c.panic_window_seconds)
        lo = math.floor(ready / c.max_scale_down_rate)
        hi = math.ceil(ready * c.max_scale_up_rate)
        raw_stable = max(stable_votes.values(), default=0)
        raw_panic = max((v for k, v in panic_votes.items() if k not in _OUT_ONLY), default=0)
        d_stable = min(hi, max(lo, raw_stable))
        d_panic = min(hi, max(lo, raw_panic))
        self._update_panic(st, d_panic / ready >= c.panic_threshold, now)
        in_panic = st.panic_since is not None
        desired = max(d_stable, d_panic, st.current) if in_panic else d_stable
        # Short-window counts go into the scale-in history, so its maximum keeps the
        # peaks of a load that swings within the stable window (HPA recommendations).
        # The rate clamps apply when acting, not here.
        held = desired if in_panic else max(raw_stable, raw_panic)
        st.recommendations.append((now, held))
        oldest = now - c.scale_in_stabilization_seconds
        while st.recommendations and st.recommendations[0][0] < oldest:
            st.recommendations.popleft()
        desired, reason = self._restrict(st, desired, in_panic, now)
        decision = ReactiveDecision(region, desired, st.current, in_panic, reason, stable_votes)
        if desired != st.current:
            st.last_change = now
            if desired > st.current:
                st.last_scale_out = now
            st.current = desired
        return decision

    def _sample_votes(self, s: RegionSample) -> tuple[float, ...]:
        """(t, ready, then per metric: count, or NaN when the metric is off / under target).

        A scale-out-only metric under target stores -ready: "keep what we have"
        if another sample in the window is over target, otherwise no vote.
        """
        t, ready = self.config.targets, max(1, s.ready_instances)
        cap = self.config.max_signal_ratio
        nan = math.nan
        conc = s.concurrency / t.concurrency_per_instance if t.concurrency_per_instance else nan
        cpu = ready * s.cpu / t.cpu if t.cpu else nan
        mem = ready * s.memory / t.memory if t.memory else nan
        out = [s.t, float(ready), conc, cpu, mem]
        for value, target in ((s.p99_ms, t.p99_ms), (s.error_rate, t.error_rate)):
            if not target:
                out.append(nan)
            elif value > target:
                out.append(ready * min(value / target, cap))
            else:
                out.append(-float(ready))
        return tuple(out)

    def _votes(self, samples: deque[tuple[float, ...]], since: float) -> dict[str, int]:
        window = _Sums()
        for s in reversed(samples):
            if s[0] <= since:
                break
            window.add(s)
        return window.votes()

    def _update_panic(self, st: _Region, over: bool, now: float) -> None:
        if over:
            st.panic_since = now  # renewed while over, as Knative renews panicTime
        elif not _within(st.panic_since, now, self.config.stable_window_seconds):
            st.panic_since = None  # a whole stable window under the threshold

    def _restrict(self, st: _Region, desired: int, in_panic: bool, now: float) -> tuple[int, str]:
        c, current = self.config, st.current or 0
        if desired > current:
            if in_panic:
                return desired, "panic"
            if _within(st.last_scale_out, now, c.scale_out_cooldown_seconds):
                return current, "cooldown"
            if current and desired / current - 1 <= c.tolerance:
                return current, "tolerance"
            return desired, "scale-out"
        if desired == current or in_panic:
            return current, "hold"
        if st.observed_since is None or now - st.observed_since < c.stable_window_seconds:
            return current, "warming-up"
        if _within(st.last_change, now, c.scale_in_cooldown_seconds):
            return current, "cooldown"
        desired = max(desired, max(r for _, r in st.recommendations))
        if desired >= current:
            return current, "stabilizing"
        desired = max(desired, math.floor(current / c.max_scale_down_rate))
        if 1 - desired / current <= c.tolerance:
            return current, "tolerance"
        return desired, "scale-in"

    # -- state that survives a restart ------------------------------------------------

    def export_state(self) -> bytes:
        regions = {}
        for name, st in self._regions.items():
            regions[name] = {
                # NaN (a metric switched off) is not JSON: it travels as null.
                "samples": [[None if x != x else x for x in s] for s in st.samples],
                "recommendations": [list(r) for r in st.recommendations],
                "current": st.current,
                "observed_since": st.observed_since,
                "panic_since": st.panic_since,
                "last_scale_out": st.last_scale_out,
                "last_change": st.last_change,
            }
        return json.dumps({"version": STATE_VERSION, "regions": regions}).encode()

    def import_state(self, data: bytes) -> None:
        """Restore ``export_state``'s bytes; ValueError (nothing changed) if they are not."""
        try:
            doc: dict[str, Any] = json.loads(data)
            if doc.get("version") != STATE_VERSION:
                raise ValueError(f"reactive state version {doc.get('version')!r}")
            regions = {}
            for name, f in doc["regions"].items():
                samples = deque(
                    tuple(math.nan if x is None else float(x) for x in s) for s in f["samples"]
                )
                stable = _Sums()
                for s in samples:
                    stable.add(s)
                regions[name] = _Region(
                    samples=samples,
                    stable=stable,
                    recommendations=deque((float(t), int(n)) for t, n in f["recommendations"]),
                    current=f["current"],
                    observed_since=f["observed_since"],
                    panic_since=f["panic_since"],
                    last_scale_out=f["last_scale_out"],
                    last_change=f["last_change"],
                )
        except (KeyError, TypeError, json.JSONDecodeError) as exc:
            raise ValueError(f"unreadable reactive state: {exc}") from None
        self._regions = regions


def _within(since: float | None, now: float, seconds: float) -> bool:
    return since is not None and now - since < seconds
