"""Latency recording on HDR histograms, keyed by (operation, protocol, region).

Values are recorded in microseconds, from 1 µs to one hour, with three
significant digits (quantisation <= 0.1 %). Percentiles in every report are
read from these histograms, never from averaged percentiles: several
recorders merge losslessly with ``merge``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from hdrh.histogram import HdrHistogram

__all__ = ["PERCENTILES", "LatencyBook", "Timeline", "new_histogram", "summarize"]

LOWEST_US = 1
HIGHEST_US = 3_600_000_000
SIGNIFICANT_FIGURES = 3
PERCENTILES: tuple[tuple[str, float], ...] = (
    ("p50", 50.0),
    ("p90", 90.0),
    ("p95", 95.0),
    ("p99", 99.0),
    ("p999", 99.9),
)


def new_histogram() -> HdrHistogram:
    return HdrHistogram(LOWEST_US, HIGHEST_US, SIGNIFICANT_FIGURES)


def _to_us(seconds: float) -> int:
    return min(HIGHEST_US, max(LOWEST_US, math.ceil(seconds * 1_000_000)))


def summarize(hist: HdrHistogram) -> dict[str, float]:
    """Count, mean, min, max and the standard percentiles, in milliseconds."""
    count = hist.get_total_count()
    out: dict[str, float] = {"count": float(count)}
    if count == 0:
        out.update({name: 0.0 for name, _ in PERCENTILES})
        out.update(min=0.0, max=0.0, mean=0.0)
        return out
    for name, pct in PERCENTILES:
        out[name] = hist.get_value_at_percentile(pct) / 1000.0
    out["min"] = hist.get_min_value() / 1000.0
    out["max"] = hist.get_max_value() / 1000.0
    out["mean"] = hist.get_mean_value() / 1000.0
    return out


@dataclass
class LatencyBook:
    """One histogram per (op, protocol, region) plus error counts by code.

    Invariant: every finished request lands in exactly one place: a success
    latency in ``histograms`` or an error in ``errors`` (and its latency in
    ``error_histogram``), so ``ok + failed`` equals the requests sent.
    """

    histograms: dict[tuple[str, str, str], HdrHistogram] = field(default_factory=dict)
    errors: dict[str, int] = field(default_factory=dict)
    error_histogram: HdrHistogram = field(default_factory=new_histogram)

    def record(self, op: str, protocol: str, region: str, seconds: float) -> None:
        key = (op, protocol, region)
        hist = self.histograms.get(key)
        if hist is None:
            hist = self.histograms[key] = new_histogram()
        hist.record_value(_to_us(seconds))

    def record_error(self, code: str, seconds: float) -> None:
        self.errors[code] = self.errors.get(code, 0) + 1
        self.error_histogram.record_value(_to_us(seconds))

    @property
    def ok(self) -> int:
        return sum(h.get_total_count() for h in self.histograms.values())

    @property
    def failed(self) -> int:
        return sum(self.errors.values())

    def merged(self, op: str | None = None) -> HdrHistogram:
        out = new_histogram()
        for (key_op, _, _), hist in self.histograms.items():
            if op is None or key_op == op:
                out.add(hist)
        return out

    def merge(self, other: LatencyBook) -> None:
        for key, hist in other.histograms.items():
            mine = self.histograms.setdefault(key, new_histogram())
            mine.add(hist)
        for code, count in other.errors.items():
            self.errors[code] = self.errors.get(code, 0) + count
        self.error_histogram.add(other.error_histogram)

    def to_json(self) -> dict[str, Any]:
        """Summaries plus the encoded histograms, so reports can re-derive percentiles."""
        return {
            "by_key": [
                {
                    "op": op,
                    "protocol": protocol,
                    "region": region,
                    "summary": summarize(hist),
                    "hdr": hist.encode().decode("ascii"),
                }
                for (op, protocol, region), hist in sorted(self.histograms.items())
            ],
            "overall": summarize(self.merged()),
            "errors": dict(sorted(self.errors.items())),
            "error_latency": summarize(self.error_histogram),
        }


@dataclass
class Timeline:
    """Per-window series: sends, completions, errors, latency, concurrency.

    Latency and outcome are binned by the window of the *intended* send
    time, so a stall shows up as high latency in the windows it delayed
    rather than as a gap with no samples; ``done`` is binned by completion
    time, so a stall shows up as a throughput dip where it happened.
    """

    window: float = 1.0
    windows: dict[int, dict[str, Any]] = field(default_factory=dict)

    def _slot(self, t: float) -> dict[str, Any]:
        index = max(0, int(t // self.window))
        slot = self.windows.get(index)
        if slot is None:
            slot = self.windows[index] = {
                "sent": 0,
                "done": 0,
                "ok": 0,
                "errors": 0,
                "hist": new_histogram(),
                "streams": 0,
                "planned_streams": 0,
                "target_rate": 0.0,
            }
        return slot

    def sent(self, t: float) -> None:
        self._slot(t)["sent"] += 1

    def record(self, t: float, seconds: float, ok: bool) -> None:
        """A request intended at ``t`` finished after ``seconds``."""
        slot = self._slot(t)
        slot["ok" if ok else "errors"] += 1
        slot["hist"].record_value(_to_us(seconds))
        self._slot(t + seconds)["done"] += 1

    def note(self, t: float, streams: int, planned: int, target_rate: float) -> None:
        slot = self._slot(t)
        slot["streams"] = max(slot["streams"], streams)
        slot["planned_streams"] = max(slot["planned_streams"], planned)
        slot["target_rate"] = max(slot["target_rate"], target_rate)

    def series(self) -> list[dict[str, float]]:
        out = []
        for index in range(max(self.windows, default=-1) + 1):
            slot = self._slot(index * self.window)
            summary = summarize(slot["hist"])
            out.append(
                {
                    "t": index * self.window,
                    "sent": slot["sent"],
                    "ok": slot["ok"],
                    "errors": slot["errors"],
                    "throughput": slot["done"] / self.window,
                    "p50": summary["p50"],
                    "p99": summary["p99"],
                    "max": summary["max"],
                    "streams": slot["streams"],
                    "planned_streams": slot["planned_streams"],
                    "target_rate": slot["target_rate"],
                }
            )
        return out
