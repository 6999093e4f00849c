"""The scenario library: fifteen shapes, their SLAs, and the local mapping."""

from __future__ import annotations

import pytest

from ruvstream.bench.scenarios import SCENARIOS, LocalScale, LocalShape, get_scenario

EXPECTED = {
    "baseline_500m",
    "baseline_100m",
    "burst_10x",
    "burst_25x",
    "burst_50x",
    "regional_failover",
    "multi_region_failover",
    "cold_start",
    "read_heavy",
    "write_heavy",
    "balanced_workload",
    "world_cup",
    "black_friday",
    "gradual_increase",
    "soak",
}


def test_the_fifteen_scenarios_exist_with_slas() -> None:
    assert set(SCENARIOS) == EXPECTED
    for s in SCENARIOS.values():
        assert s.sla.p99_ms > 0 and 0 < s.sla.availability_pct <= 100
        assert s.minutes > 0 and 0 <= s.read_ratio <= 1


def test_scenarios_needing_regions_or_failures_say_so() -> None:
    assert "regions" in SCENARIOS["regional_failover"].requires
    assert "failures" in SCENARIOS["multi_region_failover"].requires
    assert SCENARIOS["multi_region_failover"].failures_at_min == (15, 30)
    assert "regions" in SCENARIOS["world_cup"].requires
    assert SCENARIOS["baseline_500m"].requires == ()


def test_500m_streams_map_to_500_local_streams_and_bursts_keep_their_multiple() -> None:
    scale = LocalScale(seconds=60)
    base = LocalShape(get_scenario("baseline_500m"), scale)
    assert base.base_streams == 500
    assert base.base_rate == pytest.approx(250)
    burst = LocalShape(get_scenario("burst_50x"), scale)
    peak = max(burst.streams_at(t / 10) for t in range(600))
    assert peak == 25_000  # 25B production streams -> tens of thousands locally


def test_shape_is_kept_when_compressed() -> None:
    scenario = get_scenario("baseline_500m")  # 30 m up, 120 m hold, 15 m down
    shape = LocalShape(scenario, LocalScale(seconds=165))  # one local second per minute
    assert shape.streams_at(0) == 0
    assert shape.streams_at(15) == 250
    assert shape.streams_at(90) == 500
    assert shape.streams_at(157.5) == 250
    assert shape.rate_at(200) == 0


def test_burst_windows_and_rate_multiplier() -> None:
    black_friday = get_scenario("black_friday")  # x5 for 60 min every 120 min
    assert black_friday.in_burst(30) and not black_friday.in_burst(90)
    assert black_friday.rate_multiplier(30) == 5 and black_friday.rate_multiplier(90) == 1


def test_failure_times_scale_with_the_timeline() -> None:
    shape = LocalShape(get_scenario("multi_region_failover"), LocalScale(seconds=55))
    assert shape.failure_offsets() == pytest.approx([15, 30])


def test_unknown_scenario_names_the_list_command() -> None:
    with pytest.raises(KeyError, match="bench list"):
        get_scenario("nope")
