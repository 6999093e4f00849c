"""Load traces: ``t_seconds,region,offered_qps,streams`` rows, read as step functions.

A trace row says a region's offered load from ``t_seconds`` on, until that
region's next row (before its first row, the first row holds). Rows may
come in any order; ``t_seconds`` is relative to the replay's start time.
"""

from __future__ import annotations

import bisect
import csv
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from .errors import TraceError

__all__ = ["TRACE_COLUMNS", "Trace", "TraceRow"]

TRACE_COLUMNS = ("t_seconds", "region", "offered_qps", "streams")


@dataclass(frozen=True, slots=True)
class TraceRow:
    t: float
    region: str
    offered_qps: float
    streams: float


class Trace:
    """Per-region step functions of offered load. Invariant: at least one row per region."""

    def __init__(self, rows: Iterable[TraceRow]) -> None:
        by_region: dict[str, list[TraceRow]] = {}
        for row in rows:
            by_region.setdefault(row.region, []).append(row)
        if not by_region:
            raise TraceError("trace: no rows")
        self._rows = {r: sorted(v, key=lambda x: x.t) for r, v in by_region.items()}
        self._times = {r: [x.t for x in v] for r, v in self._rows.items()}

    @property
    def regions(self) -> list[str]:
        return sorted(self._rows)

    @property
    def rows(self) -> Mapping[str, list[TraceRow]]:
        return self._rows

    @property
    def end(self) -> float:
        return max(v[-1].t for v in self._rows.values())

    def at(self, region: str, t: float) -> tuple[float, float]:
        """(offered_qps, streams) in force at ``t``; (0, 0) for a region not in the trace."""
        times = self._times.get(region)
        if not times:
            return 0.0, 0.0
        i = max(0, bisect.bisect_right(times, t) - 1)
        row = self._rows[region][i]
        return row.offered_qps, row.streams

    @classmethod
    def load(cls, path: Path) -> Trace:
        with Path(path).open(newline="") as f:
            reader = csv.reader(f)
            header = next(reader, None)
            if header is None or tuple(h.strip() for h in header) != TRACE_COLUMNS:
                raise TraceError(f"{path}:1: expected the header {','.join(TRACE_COLUMNS)}")
            return cls(_parse(row, f"{path}:{n}") for n, row in enumerate(reader, start=2) if row)

    def write(self, path: Path) -> None:
        with Path(path).open("w", newline="") as f:
            out = csv.writer(f)
            out.writerow(TRACE_COLUMNS)
            rows = (r for v in self._rows.values() for r in v)
            for r in sorted(rows, key=lambda r: (r.t, r.region)):
                out.writerow([f"{r.t:g}", r.region, f"{r.offered_qps:.6g}", f"{r.streams:.6g}"])


def _parse(row: list[str], where: str) -> TraceRow:
    if len(row) != len(TRACE_COLUMNS):
        raise TraceError(f"{where}: expected {len(TRACE_COLUMNS)} columns, got {len(row)}")
    t, region, qps, streams = (c.strip() for c in row)
    if not region:
        raise TraceError(f"{where}: empty region")
    values = []
    for name, text in (("t_seconds", t), ("offered_qps", qps), ("streams", streams)):
        try:
            value = float(text)
        except ValueError:
            raise TraceError(f"{where}: {name} is not a number: {text!r}") from None
        if not math.isfinite(value) or (name != "t_seconds" and value < 0):
            raise TraceError(f"{where}: {name} must be finite and >= 0: {text!r}")
        values.append(value)
    return TraceRow(values[0], region, values[1], values[2])
