"""Budgets: money actually spent per UTC hour, day and month, against limits.

The original design projected daily and monthly cost from the hourly rate
(``capacity-manager.ts:334-344``, inventory 4.1 #44); here spend is
accumulated as instances run, on the injected clock, per calendar period
(UTC hour, UTC day, calendar month), and the limits act as follows:

- the hourly budget caps the spend *rate* ($/h of the capacity asked for),
  the original's "hourly cost = instances x price";
- the daily and monthly budgets cap *accumulated* spend: a rate is
  affordable while spent-so-far + rate x (the next hour, or what is left of
  the period if less) stays within the limit.

``usage`` is that projection over the limit; a window is ``warning`` at
``warning_ratio`` (0.8, the original's) and ``over`` past 1.0. The hard cap
is ``hard_cap_ratio`` x limit (1.0: no overrun; the original's soft mode let
spend reach 1.2x). Defaults $10,000/h, $200,000/day, $5,000,000/month are the
original's (``capacity-manager.ts:85-94``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

__all__ = ["WINDOWS", "BudgetConfig", "BudgetLedger", "WindowStatus", "period_bounds"]

WINDOWS = ("hour", "day", "month")
_HOUR = 3600.0


@dataclass(frozen=True, slots=True)
class BudgetConfig:
    hourly_dollars: float = 10_000.0
    daily_dollars: float = 200_000.0
    monthly_dollars: float = 5_000_000.0
    warning_ratio: float = 0.8
    hard_cap_ratio: float = 1.0

    def limit(self, window: str) -> float:
        return {
            "hour": self.hourly_dollars,
            "day": self.daily_dollars,
            "month": self.monthly_dollars,
        }[window]


@dataclass(frozen=True, slots=True)
class WindowStatus:
    """One budget window now: ``state`` is ok, warning or over."""

    window: str
    spent: float
    limit: float
    projected: float
    usage: float
    state: str


def period_bounds(window: str, t: float) -> tuple[float, float]:
    """The UTC calendar period of ``window`` holding ``t``, as [start, end)."""
    d = datetime.fromtimestamp(t, tz=UTC)
    if window == "hour":
        start = d.replace(minute=0, second=0, microsecond=0)
        return start.timestamp(), start.timestamp() + _HOUR
    if window == "day":
        start = d.replace(hour=0, minute=0, second=0, microsecond=0)
        return start.timestamp(), start.timestamp() + 24 * _HOUR
    start = d.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    nxt = (
        start.replace(year=start.year + 1, month=1)
        if start.month == 12
        else start.replace(month=start.month + 1)
    )
    return start.timestamp(), nxt.timestamp()


class BudgetLedger:
    """Spend per current period. Invariant: spent(w) covers only w's current period."""

    def __init__(self, config: BudgetConfig | None = None) -> None:
        self.config = config or BudgetConfig()
        self._periods: dict[str, tuple[float, float]] = {}  # window -> (period start, $)
        self._bounds: dict[str, tuple[float, float]] = {}  # last period_bounds per window
        self.total_dollars = 0.0

    def _period(self, window: str, t: float) -> tuple[float, float]:
        known = self._bounds.get(window)
        if known is None or not known[0] <= t < known[1]:
            known = self._bounds[window] = period_bounds(window, t)
        return known

    def record(self, t0: float, t1: float, rate_per_hour: float) -> None:
        """Spend ``rate_per_hour`` over ``[t0, t1)``; the part before a new period is dropped."""
        if t1 <= t0 or rate_per_hour <= 0:
            return
        self.total_dollars += rate_per_hour * (t1 - t0) / _HOUR
        for w in WINDOWS:
            start, _ = self._period(w, t1)
            held_start, spent = self._periods.get(w, (start, 0.0))
            if held_start != start:
                spent = 0.0
            self._periods[w] = (start, spent + rate_per_hour * (t1 - max(t0, start)) / _HOUR)

    def spent(self, window: str, now: float) -> float:
        start, _ = self._period(window, now)
        held_start, spent = self._periods.get(window, (start, 0.0))
        return spent if held_start == start else 0.0

    def status(self, now: float, rate_per_hour: float) -> tuple[WindowStatus, ...]:
        out = []
        for w in WINDOWS:
            limit = self.config.limit(w)
            spent = self.spent(w, now)
            if w == "hour":
                projected = rate_per_hour
            else:
                projected = spent + rate_per_hour * self._ahead_hours(w, now)
            usage = projected / limit if limit > 0 else float("inf")
            warn = self.config.warning_ratio
            state = "over" if usage > 1 else "warning" if usage >= warn else "ok"
            out.append(WindowStatus(w, spent, limit, projected, usage, state))
        return tuple(out)

    def affordable_rate(self, now: float) -> float:
        """The highest $/h the hard cap allows now (>= 0)."""
        cap = self.config.hard_cap_ratio
        rates = [cap * self.config.hourly_dollars]
        for w in ("day", "month"):
            left = cap * self.config.limit(w) - self.spent(w, now)
            rates.append(max(0.0, left) / self._ahead_hours(w, now))
        return max(0.0, min(rates))

    def _ahead_hours(self, window: str, now: float) -> float:
        _, end = self._period(window, now)
        return max(min(_HOUR, end - now), 1.0) / _HOUR

    def export_state(self) -> dict[str, object]:
        return {
            "periods": {w: list(v) for w, v in self._periods.items()},
            "total_dollars": self.total_dollars,
        }

    def import_state(self, doc: dict[str, object]) -> None:
        periods = doc["periods"]
        if not isinstance(periods, dict):
            raise ValueError("budget state: periods must be an object")
        self._periods = {str(w): (float(v[0]), float(v[1])) for w, v in periods.items()}
        total = doc.get("total_dollars", 0.0)
        self.total_dollars = float(total) if isinstance(total, int | float) else 0.0
