"""Per-region demand forecasts: Holt-Winters with a seasonal-naive fallback.

Pure functions over arrays of equally spaced observations (one value per
bucket, oldest first). ``forecast`` fits additive Holt-Winters with a damped
additive trend (statsmodels ``ExponentialSmoothing``) when the history holds
at least two full seasons, and falls back to seasonal-naive (the last season
repeated) when it is shorter or the fit fails or returns non-finite values;
with less than one season, seasonal-naive degenerates to the last value.

Why these choices (scaling-and-resilience-anchors.md 2.1): multiplicative
models need strictly positive data and traffic can be 0 at night, so the
model is additive; Holt-Winters is known to fail or return NaN on short or
awkward series, so it needs two seasons (and the predictive-HPA floor of
``10 + 2 * (season // 2)`` points) and a fallback; the heuristic
initialisation is used because estimating every seasonal start value of a
288-bucket day costs several times as much for no gain in accuracy on the
benchmark's traces. Invariant: every forecast is finite and >= 0.

``smape`` and ``mase`` are the M4 accuracy measures (anchors 2.3).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

__all__ = [
    "Forecast",
    "forecast",
    "holt_winters",
    "holt_winters_min_history",
    "mase",
    "seasonal_naive",
    "smape",
]

Array = npt.NDArray[np.float64]


@dataclass(frozen=True, slots=True)
class Forecast:
    """``values[i]`` is the forecast ``i + 1`` buckets after the history; ``method`` says how."""

    values: Array
    method: str  # "holt-winters" | "seasonal-naive" | "naive" | "empty"


def seasonal_naive(history: npt.ArrayLike, season: int, steps: int) -> Array:
    """The last full season repeated; the last value if there is no full season; zeros if empty."""
    y = _clean(history)
    if steps <= 0:
        return np.zeros(0)
    if y.size == 0:
        return np.zeros(steps)
    if season < 1 or y.size < season:
        return np.full(steps, y[-1])
    last = y[-season:]
    return np.asarray(np.resize(last, steps), dtype=np.float64)


def holt_winters_min_history(season: int, min_seasons: int = 2) -> int:
    """The fewest observations ``forecast`` will fit Holt-Winters on."""
    return max(min_seasons * season, 10 + 2 * (season // 2))


def holt_winters(history: npt.ArrayLike, season: int, steps: int) -> Array | None:
    """Additive Holt-Winters forecast, or None when the fit fails or is not finite."""
    y = _clean(history)
    if season < 2 or y.size < holt_winters_min_history(season) or np.ptp(y) == 0:
        return None
    # Imported here: statsmodels takes seconds to import and short histories never need it.
    from statsmodels.tsa.holtwinters import ExponentialSmoothing

    try:
        with warnings.catch_warnings():
            # Convergence and overflow warnings on awkward windows are expected: the
            # result is checked below and the caller falls back.
            warnings.simplefilter("ignore")
            model = ExponentialSmoothing(
                y,
                trend="add",
                damped_trend=True,
                seasonal="add",
                seasonal_periods=season,
                initialization_method="heuristic",
            )
            values = np.asarray(model.fit().forecast(steps), dtype=np.float64)
    except (ValueError, np.linalg.LinAlgError, FloatingPointError, OverflowError):
        return None
    if values.shape != (steps,) or not np.all(np.isfinite(values)):
        return None
    return values


def forecast(history: npt.ArrayLike, season: int, steps: int) -> Forecast:
    """Holt-Winters when it can be fitted, else seasonal-naive; never negative."""
    y = _clean(history)
    fitted = holt_winters(y, season, steps)
    if fitted is not None:
        return Forecast(np.maximum(fitted, 0.0), "holt-winters")
    method = "empty" if y.size == 0 else "seasonal-naive" if y.size >= season else "naive"
    return Forecast(np.maximum(seasonal_naive(y, season, steps), 0.0), method)


def smape(actual: npt.ArrayLike, predicted: npt.ArrayLike) -> float:
    """Symmetric MAPE in [0, 2]: mean of 2|y - f| / (|y| + |f|); a 0/0 term counts 0."""
    y, f = _clean(actual), _clean(predicted)
    denominator = np.abs(y) + np.abs(f)
    terms = np.divide(2 * np.abs(y - f), denominator, out=np.zeros_like(y), where=denominator > 0)
    return float(terms.mean()) if terms.size else 0.0


def mase(
    actual: npt.ArrayLike, predicted: npt.ArrayLike, train: npt.ArrayLike, season: int
) -> float:
    """MAE of the forecast over the in-sample MAE of seasonal-naive (lag ``season``).

    Below 1 beats seasonal-naive; inf when the training series repeats exactly.
    """
    y, f, x = _clean(actual), _clean(predicted), _clean(train)
    lag = season if x.size > season else 1
    scale = float(np.mean(np.abs(x[lag:] - x[:-lag]))) if x.size > lag else 0.0
    error = float(np.mean(np.abs(y - f))) if y.size else 0.0
    if scale == 0:
        return 0.0 if error == 0 else float("inf")
    return error / scale


def _clean(values: npt.ArrayLike) -> Array:
    """A float array with non-finite values replaced by the previous finite one (or 0)."""
    y = np.asarray(values, dtype=np.float64).ravel()
    bad = ~np.isfinite(y)
    if bad.any():
        y = y.copy()
        last = 0.0
        for i in range(y.size):
            if bad[i]:
                y[i] = last
            else:
                last = y[i]
    return y
