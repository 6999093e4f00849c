"""The reactive scaler on simulated time: steps, flapping, panic, restarts, scale-in."""

from __future__ import annotations

import itertools
import math

from ruvstream.control.scaling import (
    MemoryStateStore,
    ReactiveScaler,
    RegionSample,
)

from .helpers import NODE, REGION, config, run, simulation

BASE_QPS = 700.0  # 10 instances at 70 q/s each


def warm(sim_initial: int = 10):  # type: ignore[no-untyped-def]
    sim = simulation(initial=sim_initial, predictive=False)
    run(sim, BASE_QPS, 40)  # more than a stable window at steady state
    return sim


def test_steady_load_holds_capacity() -> None:
    sim = warm()
    assert set(run(sim, BASE_QPS, 60)) == {10}


def test_unpredicted_10x_step_is_met_within_the_panic_window() -> None:
    """Stated: desired covers a step within ceil(panic window / tick) = 3 ticks, and
    running capacity follows one start-up (20 s = 10 ticks) later."""
    sim = warm()
    needed = NODE.instances_for(10 * BASE_QPS, 0)
    ticks = [sim.step({REGION: (10 * BASE_QPS, 0.0)})[0] for _ in range(16)]
    within = math.ceil(6.0 / 2.0)
    assert ticks[within - 1].desired >= needed
    assert ticks[0].reason == "panic"
    assert ticks[within - 1 + 10].running >= needed
    assert all(t.level == "none" for t in ticks)


def test_flapping_load_does_not_flap_capacity() -> None:
    sim = warm()
    desired: list[int] = []
    for i in range(450):  # 15 minutes, load doubling and halving every 10 s
        qps = 2 * BASE_QPS if (i // 5) % 2 else BASE_QPS
        desired.append(sim.step({REGION: (qps, 0.0)})[0].desired)
    changes = [b - a for a, b in itertools.pairwise(desired) if b != a]
    reversals = sum(1 for a, b in itertools.pairwise(changes) if (a > 0) != (b > 0))
    assert reversals <= 1
    assert len(set(desired[-150:])) == 1  # settled for the last 5 minutes
    assert min(desired[30:]) >= 15  # covers the mean load at the target


def test_no_scale_in_while_in_panic() -> None:
    sim = warm()
    run(sim, 10 * BASE_QPS, 5)
    run(sim, BASE_QPS, 20)  # load gone, but still inside the panic's stable window
    panicking = [d for d in sim.orchestrator.log if d.in_panic]
    assert panicking
    assert all(d.desired >= d.previous for d in panicking)


def test_restart_mid_panic_with_saved_state_does_not_scale_in() -> None:
    sim = warm()
    peak = max(run(sim, 10 * BASE_QPS, 5))
    store = MemoryStateStore()
    sim.orchestrator.save(store)
    assert sim.restart(store) is True
    after = run(sim, BASE_QPS, 30)  # a full stable window of low load after the restart
    assert min(after) >= peak
    assert sim.orchestrator.scaler.in_panic(REGION) or min(after) == peak


def test_restart_without_state_is_conservative() -> None:
    sim = warm()
    peak = max(run(sim, 10 * BASE_QPS, 5))
    assert sim.restart(None) is False
    first_window = run(sim, BASE_QPS, 29)  # 58 s: less than the 60 s stable window
    assert min(first_window) >= peak
    later = run(sim, BASE_QPS, 200)
    steps = [(a, b) for a, b in zip([peak, *later], later, strict=False) if b < a]
    assert steps, "scales in once a stable window has been observed"
    assert all(b >= a // 2 for a, b in steps)  # gradual: at most halve per step


def test_scale_in_is_gradual_and_respects_the_cooldown() -> None:
    sim = warm()
    run(sim, 10 * BASE_QPS, 60)
    ticks = []
    for _ in range(900):  # 30 minutes of baseline
        ticks.append(sim.step({REGION: (BASE_QPS, 0.0)})[0])
    ins = [(k.t, k.desired) for a, k in itertools.pairwise(ticks) if k.desired < a.desired]

    assert len(ins) >= 2
    assert all(t2 - t1 >= 300 for (t1, _), (t2, _) in itertools.pairwise(ins))
    assert ticks[-1].desired <= 15


def test_state_round_trip_gives_the_same_decisions() -> None:
    a, b = ReactiveScaler(config().reactive), ReactiveScaler(config().reactive)

    def sample(t: float, qps: float) -> RegionSample:
        return RegionSample(REGION, t, 10, 10, concurrency=qps, cpu=min(1.0, qps / 1000))

    for i in range(40):
        for s in (a, b):
            s.observe(sample(i * 2.0, 700 if i < 30 else 7000))
            s.decide(REGION, i * 2.0)
    b.import_state(a.export_state())
    for i in range(40, 80):
        decisions = []
        for s in (a, b):
            s.observe(sample(i * 2.0, 700))
            decisions.append(s.decide(REGION, i * 2.0))
        assert decisions[0] == decisions[1]


def test_a_region_that_stops_reporting_holds_on_no_stale_data() -> None:
    scaler = ReactiveScaler(config().reactive)
    for i in range(40):
        scaler.observe(RegionSample(REGION, i * 2.0, 10, 10, concurrency=7000.0))
        scaler.decide(REGION, i * 2.0)
    current = scaler.current(REGION)
    late = scaler.decide(REGION, 80.0 + 61.0)
    assert (late.reason, late.desired) == ("no-data", current)
