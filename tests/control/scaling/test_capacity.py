"""Limits, budgets and the degradation ladder: up at once, down with hysteresis."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ruvstream.control.scaling import (
    LADDER,
    BudgetConfig,
    BudgetLedger,
    CapacityManager,
    DegradationLevel,
    NodeCapacity,
    RegionPolicy,
    TierMix,
    region_policy,
    serve,
)

T0 = 1_800_000_000.0  # 2027-01-15T08:00:00Z, on an hour boundary
HOUR = 3600.0


def manager(hourly: float = 100.0) -> CapacityManager:
    regions = {
        "a": RegionPolicy(
            "a", min_instances=1, max_instances=1000, cost_per_instance_hour=1.0, priority=10
        ),
        "b": RegionPolicy(
            "b", min_instances=1, max_instances=1000, cost_per_instance_hour=1.0, priority=5
        ),
    }
    return CapacityManager(
        regions, BudgetConfig(hourly_dollars=hourly, daily_dollars=1e9, monthly_dollars=1e12)
    )


def test_region_defaults_are_the_original_designs() -> None:
    p = region_policy("southamerica-east1")
    assert (p.cost_per_instance_hour, p.priority) == (0.65, 5)
    assert region_policy("nowhere").cost_per_instance_hour == 0.50


def test_limits_clamp_and_say_why() -> None:
    m = manager(hourly=1e6)
    m.regions["a"] = RegionPolicy("a", min_instances=2, max_instances=10)
    alloc = m.allocate({"a": 50, "b": 0}, T0)
    assert alloc.desired == {"a": 10, "b": 1}
    assert alloc.limited == {"a": "quota", "b": "min-instances"}


def test_budget_trims_lowest_priority_first() -> None:
    alloc = manager(hourly=100.0).allocate({"a": 80, "b": 80}, T0)
    assert alloc.desired == {"a": 80, "b": 20}
    assert alloc.limited == {"b": "budget"}
    assert alloc.rate_per_hour == pytest.approx(100.0)


def test_spend_accumulates_per_period_and_warns() -> None:
    ledger = BudgetLedger(BudgetConfig(hourly_dollars=100, daily_dollars=1000))
    ledger.record(T0, T0 + HOUR / 2, 100.0)
    assert ledger.spent("hour", T0 + HOUR / 2) == pytest.approx(50.0)
    assert ledger.spent("day", T0 + HOUR / 2) == pytest.approx(50.0)
    assert ledger.spent("hour", T0 + HOUR) == 0.0  # a new hour
    by_window = {s.window: s for s in ledger.status(T0 + HOUR / 2, 85.0)}
    assert by_window["hour"].state == "warning"
    assert by_window["day"].state == "ok"
    ledger.record(T0 + HOUR / 2, T0 + 9 * HOUR, 100.0)  # $900 of the $1000 day
    assert ledger.affordable_rate(T0 + 9 * HOUR) == pytest.approx(100.0)
    ledger.record(T0 + 9 * HOUR, T0 + 9.9 * HOUR, 100.0)
    assert ledger.affordable_rate(T0 + 9.9 * HOUR) == pytest.approx(10.0)


def test_exhausting_the_budget_steps_degradation_up_and_recovery_steps_down() -> None:
    m = manager(hourly=100.0)
    levels = []
    for t, want in ((0, 40), (2, 48), (4, 65), (6, 80)):
        levels.append(m.allocate({"a": want, "b": want}, T0 + t).level)
    assert levels == [
        DegradationLevel.NONE,
        DegradationLevel.MINOR,  # 96 / 100
        DegradationLevel.MAJOR,  # 130 / 100
        DegradationLevel.CRITICAL,  # 160 / 100
    ]
    # Pressure falls just under critical's threshold: inside the margin, no recovery.
    for t in range(8, 1000, 2):
        assert m.allocate({"a": 72, "b": 72}, T0 + t).level == DegradationLevel.CRITICAL
    # Well below: one level per 300 s of calm.
    seen = {}
    for t in range(1000, 2400, 2):
        seen.setdefault(m.allocate({"a": 10, "b": 10}, T0 + t).level, t)
    assert seen[DegradationLevel.MAJOR] - 1000 >= 300
    assert seen[DegradationLevel.MINOR] - seen[DegradationLevel.MAJOR] >= 300
    assert seen[DegradationLevel.NONE] - seen[DegradationLevel.MINOR] >= 300


def test_a_spike_during_recovery_restarts_the_hold() -> None:
    m = manager(hourly=100.0)
    m.allocate({"a": 65, "b": 65}, T0)
    assert m.policy.level == DegradationLevel.MAJOR
    m.allocate({"a": 10, "b": 10}, T0 + 2)
    m.allocate({"a": 62, "b": 62}, T0 + 200)  # back above major's floor (1.1)
    assert m.allocate({"a": 10, "b": 10}, T0 + 400).level == DegradationLevel.MAJOR
    assert m.allocate({"a": 10, "b": 10}, T0 + 700).level == DegradationLevel.MINOR


def test_levels_are_data_with_concrete_actions() -> None:
    minor, major, critical = (LADDER[lv] for lv in list(DegradationLevel)[1:])
    assert minor.tier("free").connection_limit_factor == 0.8
    assert minor.cache_ttl_multiplier == 2.0 and minor.defer_background
    assert major.tier("free").shed_share == 0.5
    assert major.tier("standard").connection_limit_factor == 0.9
    assert critical.tier("free").shed_share == 1.0
    assert critical.tier("standard").connection_limit_factor == 0.5
    assert all(LADDER[lv].tier("premium").shed_share == 0 for lv in DegradationLevel)
    assert critical.shed_order == ("free", "standard")


def test_overload_sheds_free_then_standard_and_plans_shed_by_tier() -> None:
    node = NodeCapacity(qps_per_instance=100.0)
    mix = TierMix(free=0.3, standard=0.5, premium=0.2)
    load = serve("a", T0, 1.0, 1000.0, 0.0, 5, node, mix)  # 1000 offered, 500 capacity
    assert (load.served, load.shed) == (500, 500)
    plan = LADDER[DegradationLevel.MAJOR]
    light = serve("a", T0, 1.0, 100.0, 0.0, 5, node, mix, plan)
    assert light.shed == light.shed_by_plan == 15  # half of the 30 free requests
    assert not light.overloaded


@given(
    qps=st.floats(0, 1e6, allow_nan=False),
    ready=st.integers(0, 500),
    seconds=st.sampled_from([0.5, 1.0, 2.0, 5.0]),
    level=st.sampled_from(list(DegradationLevel)),
)
def test_served_plus_shed_is_offered(
    qps: float, ready: int, seconds: float, level: DegradationLevel
) -> None:
    load = serve(
        "a",
        T0,
        seconds,
        qps,
        0.0,
        ready,
        NodeCapacity(qps_per_instance=37.0),
        TierMix(),
        LADDER[level],
    )
    assert load.served + load.shed == load.offered
    assert load.served <= load.capacity
