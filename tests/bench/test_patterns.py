"""Query patterns and arrival schedules: pure, seeded, checked by their statistics."""

from __future__ import annotations

import numpy as np
import pytest

from ruvstream.bench.patterns import QueryPicker, arrivals, zipf_weights


def test_hotspot_sends_most_picks_to_the_first_percent() -> None:
    picker = QueryPicker(10_000, "hotspot", seed=1)
    picks = np.array([picker.pick() for _ in range(20_000)])
    share = float(np.mean(picks < 100))
    # 80 % hot + 1 % of the uniform 20 %
    assert 0.78 < share < 0.84


def test_zipfian_frequencies_follow_one_over_rank_to_the_s() -> None:
    picker = QueryPicker(1000, "zipfian", seed=2, zipf_s=1.1)
    counts = np.bincount([picker.pick() for _ in range(50_000)], minlength=1000)
    expected = zipf_weights(1000, 1.1) * 50_000
    # the head ranks carry most of the mass and match the law within a few percent
    assert np.allclose(counts[:5], expected[:5], rtol=0.08)
    assert counts[0] > counts[1] > counts[3] > counts[20]
    assert counts.sum() == 50_000 and counts.min() >= 0


def test_burst_pattern_is_hotspot_inside_and_uniform_outside() -> None:
    picker = QueryPicker(10_000, "burst", seed=3)
    inside = np.array([picker.pick(in_burst=True) for _ in range(5000)])
    outside = np.array([picker.pick(in_burst=False) for _ in range(5000)])
    assert np.mean(inside < 100) > 0.7
    assert np.mean(outside < 100) < 0.05


def test_unknown_pattern_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown query pattern"):
        QueryPicker(10, "sometimes")


def test_fixed_rate_spacing_and_bounds() -> None:
    times = list(arrivals(lambda t: 20.0, 3.0))
    assert len(times) == 60
    assert np.allclose(np.diff(times), 0.05)
    assert times[0] == pytest.approx(0.025)
    assert all(0 <= t < 3.0 for t in times)


def test_poisson_rate_matches_on_average_and_gaps_are_irregular() -> None:
    times = np.array(list(arrivals(lambda t: 500.0, 20.0, poisson=True, seed=4)))
    assert 9_500 < len(times) < 10_500
    gaps = np.diff(times)
    assert np.all(gaps >= 0)
    # exponential gaps: standard deviation close to the mean
    assert 0.9 < gaps.std() / gaps.mean() < 1.1


def test_time_varying_rate_is_followed_and_zero_rate_sends_nothing() -> None:
    def rate(t: float) -> float:
        return 0.0 if t < 1.0 else 100.0 * (t - 1.0)

    times = np.array(list(arrivals(rate, 3.0)))
    assert times.min() >= 1.0
    # integral of 100 (t - 1) from 1 to 3 = 200
    assert 195 <= len(times) <= 201
    assert np.sum(times < 2.0) < np.sum(times >= 2.0)


def test_max_count_bounds_the_schedule() -> None:
    assert len(list(arrivals(lambda t: 1000.0, 100.0, max_count=37))) == 37
