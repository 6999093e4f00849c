"""The simulated fleet's samples: the plan's deliberate shedding is not an error of the fleet."""

from __future__ import annotations

from ruvstream.control.scaling import (
    LADDER,
    DegradationLevel,
    RegionPolicy,
    ScalingSimulation,
    TierMix,
    region_sample,
    serve,
)

from .helpers import NODE, config

HOT, QUIET = "us-central1", "us-east1"
QUOTA = 40
BASE_QPS = 700.0  # 10 instances at the 70 q/s target


def two_regions() -> ScalingSimulation:
    policies = {
        r: RegionPolicy(r, min_instances=1, max_instances=QUOTA, cost_per_instance_hour=1.0)
        for r in (HOT, QUIET)
    }
    return ScalingSimulation(
        config(regions=policies),
        None,
        [HOT, QUIET],
        predictive=False,
        start=1_800_000_000.0,
        initial={HOT: 10, QUIET: 10},
    )


def test_a_plan_shedding_on_a_region_with_room_reports_no_error() -> None:
    actions = LADDER[DegradationLevel.CRITICAL]
    load = serve(QUIET, 0.0, 2.0, BASE_QPS, 0.0, 10, NODE, TierMix(), actions)
    assert load.shed == load.shed_by_plan == 420  # all free traffic: 30 % of 1,400
    assert region_sample(load, 10, 10, NODE).error_rate == 0.0
    # Ready capacity short of what the plan let through: that part is an error.
    short = serve(HOT, 0.0, 2.0, 10 * BASE_QPS, 0.0, 10, NODE, TierMix(), actions)
    admitted = short.offered - short.shed_by_plan
    assert short.shed > short.shed_by_plan
    assert region_sample(short, 10, 10, NODE).error_rate == (
        (short.shed - short.shed_by_plan) / admitted
    )


def test_one_region_over_quota_degrades_without_doubling_the_others_and_recovers() -> None:
    sim = two_regions()
    quiet_desired: list[int] = []
    levels: list[str] = []

    def step(hot_qps: float) -> None:
        ticks = sim.step({HOT: (hot_qps, 0.0), QUIET: (BASE_QPS, 0.0)})
        by = {k.region: k for k in ticks}
        quiet_desired.append(by[QUIET].desired)
        levels.append(by[HOT].level)

    for _ in range(30):
        step(BASE_QPS)
    for _ in range(150):  # 5 minutes at 10x: the hot region wants 100 against a quota of 40
        step(10 * BASE_QPS)
    assert "critical" in levels
    assert sim.fleet.billed(HOT) == QUOTA
    assert max(quiet_desired) == 10  # shed by the plan, short of nothing: never doubled
    at_peak = len(levels)
    for _ in range(1500):  # 50 minutes back at the baseline
        step(BASE_QPS)
    after = levels[at_peak:]
    assert after[-1] == "none"
    # Down one level at a time: critical, major, minor, none, each held in turn.
    steps = [lvl for i, lvl in enumerate(after) if i == 0 or after[i - 1] != lvl]
    assert steps == ["critical", "major", "minor", "none"]
    assert max(quiet_desired) == 10
    assert sim.fleet.billed(QUIET) == 10


def test_shed_by_tier_follows_the_plan_shares_then_the_overflow_order() -> None:
    mix = TierMix()  # 30 % free, 50 % standard, 20 % premium
    major = LADDER[DegradationLevel.MAJOR]
    # Room for everything the plan lets through: only the plan's 50 % of free goes.
    room = serve(QUIET, 0.0, 2.0, BASE_QPS, 0.0, 10, NODE, mix, major)
    assert dict(room.offered_by_tier) == {"free": 420, "standard": 700, "premium": 280}
    assert dict(room.shed_by_tier) == {"free": 210, "standard": 0, "premium": 0}
    # Capacity for 800 of the 1,190 admitted: the rest of free goes, then standard.
    short = serve(HOT, 0.0, 2.0, BASE_QPS, 0.0, 4, NODE, mix, major)
    assert dict(short.shed_by_tier) == {"free": 420, "standard": 180, "premium": 0}
    # Premium is cut only when nothing else is left to cut.
    starved = serve(HOT, 0.0, 2.0, BASE_QPS, 0.0, 1, NODE, mix, LADDER[DegradationLevel.CRITICAL])
    assert dict(starved.shed_by_tier) == {"free": 420, "standard": 700, "premium": 80}
    for load in (room, short, starved):
        assert sum(load.shed_by_tier.values()) == load.shed
        assert sum(load.offered_by_tier.values()) == load.offered
