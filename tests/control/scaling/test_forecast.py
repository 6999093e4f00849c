"""Forecasts are never negative and fall back to seasonal-naive when Holt-Winters cannot fit."""

from __future__ import annotations

import numpy as np
import pytest

from ruvstream.control.scaling import forecast, mase, seasonal_naive, smape

SEASON = 24


def seasonal(days: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    t = np.arange(days * SEASON)
    return 100 + 40 * np.sin(2 * np.pi * t / SEASON) + rng.normal(0, 3, t.size)


def test_holt_winters_fits_two_seasons_and_tracks_the_season() -> None:
    history = seasonal(6)
    result = forecast(history, SEASON, SEASON)
    assert result.method == "holt-winters"
    truth = 100 + 40 * np.sin(2 * np.pi * np.arange(SEASON) / SEASON)
    assert smape(truth, result.values) < 0.1


def test_forecast_is_never_negative_even_on_a_falling_series() -> None:
    t = np.arange(4 * SEASON, dtype=float)
    falling = np.maximum(0.0, 500 - 5 * t) + 10 * np.sin(2 * np.pi * t / SEASON) + 10
    for steps in (1, SEASON, 10 * SEASON):
        result = forecast(falling, SEASON, steps)
        assert result.values.min() >= 0
        assert np.all(np.isfinite(result.values))
    assert forecast(-np.ones(3), SEASON, 5).values.min() >= 0


def test_short_history_falls_back_to_seasonal_naive_then_naive() -> None:
    one_season = seasonal(1)
    result = forecast(one_season, SEASON, 2 * SEASON)
    assert result.method == "seasonal-naive"
    np.testing.assert_allclose(result.values, np.tile(one_season, 2))
    short = forecast([5.0, 7.0], SEASON, 3)
    assert short.method == "naive"
    assert short.values.tolist() == [7.0, 7.0, 7.0]
    assert forecast([], SEASON, 2).method == "empty"


def test_fit_failure_falls_back_to_seasonal_naive(monkeypatch: pytest.MonkeyPatch) -> None:
    import statsmodels.tsa.holtwinters as hw

    class Broken:
        def __init__(self, *args: object, **kwargs: object) -> None:
            raise ValueError("cannot fit")

    monkeypatch.setattr(hw, "ExponentialSmoothing", Broken)
    history = seasonal(4)
    result = forecast(history, SEASON, SEASON)
    assert result.method == "seasonal-naive"
    np.testing.assert_allclose(result.values, np.maximum(history[-SEASON:], 0))


def test_non_finite_fit_falls_back(monkeypatch: pytest.MonkeyPatch) -> None:
    import statsmodels.tsa.holtwinters as hw

    class NaNModel:
        def __init__(self, *args: object, **kwargs: object) -> None:
            pass

        def fit(self) -> NaNModel:
            return self

        def forecast(self, steps: int) -> np.ndarray:
            return np.full(steps, np.nan)

    monkeypatch.setattr(hw, "ExponentialSmoothing", NaNModel)
    assert forecast(seasonal(4), SEASON, 5).method == "seasonal-naive"


def test_constant_history_uses_seasonal_naive() -> None:
    result = forecast(np.full(5 * SEASON, 42.0), SEASON, 3)
    assert result.method == "seasonal-naive"
    assert result.values.tolist() == [42.0, 42.0, 42.0]


def test_seasonal_naive_repeats_the_last_season() -> None:
    assert seasonal_naive([1, 2, 3, 4], 2, 5).tolist() == [3, 4, 3, 4, 3]


def test_smape_and_mase() -> None:
    assert smape([1, 2], [1, 2]) == 0
    assert smape([0, 0], [0, 0]) == 0
    assert smape([1], [3]) == pytest.approx(1.0)
    train = np.array([1.0, 2.0, 1.0, 2.0, 1.0, 3.0])  # in-sample seasonal-naive MAE (lag 2) = 0.25
    assert mase([2.0, 2.0], [2.5, 1.5], train, 2) == pytest.approx(2.0)
    assert mase([1.0], [1.0], [5.0, 5.0, 5.0], 1) == 0.0
