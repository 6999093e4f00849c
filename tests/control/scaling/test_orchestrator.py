"""The orchestrator's decision log, metrics, dry run, fencing and saved state."""

from __future__ import annotations

import asyncio
from dataclasses import replace

import pytest

from ruvstream.control.scaling import (
    STATE_KEYS,
    MemoryDegradationPort,
    MemoryStateStore,
    RegionSample,
    SimulatedFleet,
    StaleFencingTokenError,
)

from .helpers import REGION, config, run, simulation

BASE_QPS = 700.0


def test_every_decision_is_logged_with_inputs_and_a_reason() -> None:
    sim = simulation(predictive=False)
    run(sim, BASE_QPS, 40)
    run(sim, 10 * BASE_QPS, 5)
    log = sim.orchestrator.log
    assert len(log) == 45
    panic = log.query(reasons=["panic"])
    assert panic and panic[0].offered_qps == pytest.approx(10 * BASE_QPS)
    assert panic[0].reactive > panic[0].previous and panic[0].in_panic
    assert all(d.reason == "hold" for d in log.query(until=panic[0].t - 1))
    assert log.query(region="elsewhere") == []
    assert len(log.query(changed_only=True)) >= 1
    assert log.query(limit=2) == list(log)[-2:]


def test_metrics_are_exported_on_the_given_registry() -> None:
    sim = simulation(predictive=False)
    run(sim, BASE_QPS, 40)
    desired = run(sim, 10 * BASE_QPS, 3)[-1]
    r = sim.registry
    assert r.get_sample_value("ruvstream_scaling_desired_instances", {"region": REGION}) == desired
    assert r.get_sample_value("ruvstream_scaling_panic", {"region": REGION}) == 1
    assert r.get_sample_value("ruvstream_scaling_decisions_total", {"reason": "panic"}) >= 1
    assert r.get_sample_value("ruvstream_scaling_degradation_level") == 0
    hourly = config().budget.hourly_dollars
    limit = r.get_sample_value("ruvstream_scaling_budget_limit_dollars", {"window": "hour"})
    assert limit == hourly
    spent = r.get_sample_value("ruvstream_scaling_budget_spend_dollars", {"window": "day"})
    assert spent is not None and spent > 0


def sample(t: float, qps: float, ready: int = 10) -> RegionSample:
    return RegionSample(
        REGION, t, ready, ready, concurrency=qps, cpu=min(1.0, qps / 1000), offered_qps=qps
    )


def test_dry_run_returns_the_plan_without_acting() -> None:
    sim = simulation(predictive=False)
    orch, fleet = sim.orchestrator, sim.fleet
    port = MemoryDegradationPort()
    plan = asyncio.run(orch.tick([sample(sim.clock.now(), 7000)], 7, fleet, port, dry_run=True))
    assert plan.dry_run and plan.desired[REGION] > 10 and plan.to_send == (REGION,)
    assert fleet.calls == [] and port.received == []
    assert all(d.dry_run for d in plan.decisions)
    asyncio.run(orch.act(plan, fleet, port))
    assert fleet.calls[-1][1:] == (REGION, plan.desired[REGION], 7)
    assert port.current is not None and port.current.fencing_token == 7


def test_a_stale_fencing_token_is_refused() -> None:
    fleet = SimulatedFleet(simulation().clock, 10.0, {REGION: 100})
    fleet.set_desired_now(REGION, 5, 3)
    with pytest.raises(StaleFencingTokenError):
        asyncio.run(fleet.set_desired(REGION, 1, 2))
    port = MemoryDegradationPort()
    sim = simulation(predictive=False)
    run(sim, BASE_QPS, 1)
    plan = sim.last_plan
    assert plan is not None
    port.accept(plan.degradation)
    with pytest.raises(StaleFencingTokenError):
        port.accept(replace(plan.degradation, fencing_token=0))


def test_state_is_saved_under_the_state_keys_and_restored() -> None:
    sim = simulation(predictive=False)
    run(sim, BASE_QPS, 40)
    store = MemoryStateStore()
    sim.orchestrator.save(store)
    assert set(store.data) == set(STATE_KEYS)
    spent = sim.orchestrator.capacity.ledger.total_dollars
    assert sim.restart(store)
    assert sim.orchestrator.capacity.ledger.total_dollars == pytest.approx(spent)
    assert sim.orchestrator.scaler.current(REGION) == 10
