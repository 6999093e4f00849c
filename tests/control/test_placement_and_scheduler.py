"""Agent choice and the coordinator's decisions, on a clock the test moves."""

from __future__ import annotations

from collections import Counter
from dataclasses import replace

import pytest

from ruvstream.control.figures import Figures
from ruvstream.control.placement import Candidate, make_placement
from ruvstream.control.scheduler import Scheduler
from ruvstream.control.tasks import Task, TaskState, new_task
from ruvstream.core.clock import ManualClock
from ruvstream.core.retry import Backoff

from .helpers import member


def candidates(*capacities: int) -> list[Candidate]:
    return [Candidate(f"a{i}", "r1", c) for i, c in enumerate(capacities)]


def test_round_robin_spreads_tasks_evenly_per_region() -> None:
    rr = make_placement("round-robin")
    picks = Counter(rr.pick(candidates(1, 1, 1), "r1").id for _ in range(6))
    assert picks == {"a0": 2, "a1": 2, "a2": 2}


def test_least_loaded_prefers_fewest_running_then_lowest_cpu() -> None:
    ll = make_placement("least-loaded")
    pool = [
        Candidate("a", "r1", running=2),
        Candidate("b", "r1", running=1, figures=Figures(cpu_percent=90)),
        Candidate("c", "r1", running=1, figures=Figures(cpu_percent=10)),
    ]
    assert ll.pick(pool, None).id == "c"


def test_weighted_gives_each_agent_its_capacity_share() -> None:
    weighted = make_placement("weighted")
    pool = candidates(1, 2, 5)
    picks = Counter(weighted.pick(pool, None).id for _ in range(8 * 10))
    assert picks == {"a0": 10, "a1": 20, "a2": 50}


def test_adaptive_prefers_the_healthiest_and_counts_running_tasks() -> None:
    adaptive = make_placement("adaptive")
    busy = Figures(cpu_percent=95, latency_ms={"p99": 800.0})
    idle = Figures(cpu_percent=5, latency_ms={"p99": 2.0})
    assert (
        adaptive.pick(
            [Candidate("a", "r1", figures=busy), Candidate("b", "r1", figures=idle)], None
        ).id
        == "b"
    )
    loaded = [Candidate("a", "r1", figures=idle, running=9), Candidate("b", "r1", figures=idle)]
    assert adaptive.pick(loaded, None).id == "b"


def test_unknown_strategy_names_the_known_ones() -> None:
    with pytest.raises(ValueError, match="round-robin"):
        make_placement("random")


def make(clock: ManualClock, strategy: str = "round-robin") -> Scheduler:
    return Scheduler(
        strategy=strategy, backoff=Backoff(base=1.0, cap=8.0), clock=clock, rng=lambda: 1.0
    )


def task(task_id: str, **fields: object) -> Task:
    return replace(new_task("snapshot", task_id=task_id, timeout=5.0), **fields)  # type: ignore[arg-type]


def test_higher_priority_starts_first_and_region_placement_holds() -> None:
    clock = ManualClock()
    scheduler = make(clock)
    tasks = [
        task("low", priority=0, created=1.0),
        task("high", priority=5, created=2.0),
        task("east", region="east", created=0.5),
    ]
    plan = scheduler.plan(tasks, [member("w1", "west"), member("e1", "east")], token=7)
    started = {t.after.id: t.dispatch for t in plan}
    assert [t.after.id for t in plan] == ["high", "east", "low"]
    assert started["east"] == "e1"
    assert all(t.after.state is TaskState.RUNNING and t.after.token == 7 for t in plan)
    assert all(t.after.attempt == 1 and t.after.deadline == clock.now() + 5.0 for t in plan)


def test_a_task_waits_while_no_agent_fits() -> None:
    scheduler = make(ManualClock())
    draining = member("a", state="draining")  # type: ignore[arg-type]
    assert scheduler.plan([task("t", region="r1")], [member("x", "r2"), draining], 1) == []


def running(task_id: str, agent: str, clock: ManualClock, **fields: object) -> Task:
    base: dict[str, object] = {"attempt": 1, "deadline": clock.now() + 5.0}
    return task(task_id, state=TaskState.RUNNING, agent=agent, **{**base, **fields})


def test_outcomes_settle_ok_as_done_and_error_as_a_jittered_retry() -> None:
    clock = ManualClock()
    scheduler = make(clock)
    ok = running("ok", "a", clock, outcome="ok", result={"x": 1})
    bad = running("bad", "a", clock, outcome="error", errors=("boom",))
    plan = {t.after.id: t.after for t in scheduler.plan([ok, bad], [member("a")], 1)}
    assert plan["ok"].state is TaskState.DONE and plan["ok"].result == {"x": 1}
    assert plan["bad"].state is TaskState.RETRYING and plan["bad"].agent is None
    assert plan["bad"].not_before == clock.now() + 1.0  # full jitter, rng at its top: base * 2**0
    assert plan["bad"].errors == ("boom",)


def test_the_backoff_grows_with_the_attempt_and_the_last_attempt_is_dead() -> None:
    clock = ManualClock()
    scheduler = make(clock)
    second = running("t", "a", clock, attempt=2, outcome="error", errors=("1", "2"))
    (retry,) = scheduler.plan([second], [member("a")], 1)
    assert retry.after.not_before == clock.now() + 2.0
    last = running("t", "a", clock, attempt=3, outcome="error", errors=("1", "2", "3"))
    (dead,) = scheduler.plan([last], [member("a")], 1)
    assert dead.after.state is TaskState.DEAD and dead.bury and len(dead.after.errors) == 3


def test_a_timed_out_attempt_fails_and_retries_elsewhere_later() -> None:
    clock = ManualClock()
    scheduler = make(clock)
    held = running("t", "a", clock)
    assert scheduler.plan([held], [member("a"), member("b")], 1) == []
    clock.advance(5.1)
    (failed,) = scheduler.plan([held], [member("a"), member("b")], 1)
    assert failed.after.state is TaskState.RETRYING
    assert "timed out" in failed.after.errors[-1]


def test_a_lost_agent_fails_its_attempt_over() -> None:
    clock = ManualClock()
    scheduler = make(clock)
    held = running("t", "dead-agent", clock)
    (failed,) = scheduler.plan([held], [member("b")], 1)
    assert failed.after.state is TaskState.RETRYING and "lost" in failed.after.errors[-1]
    clock.advance(1.0)
    (again,) = scheduler.plan([failed.after], [member("b")], 2)
    assert again.dispatch == "b" and again.after.attempt == 2 and again.after.token == 2


def test_an_agent_that_keeps_failing_is_skipped_by_its_breaker() -> None:
    clock = ManualClock()
    scheduler = make(clock)
    for i in range(3):
        scheduler.plan([running(f"t{i}", "bad", clock, outcome="fault")], [member("bad")], 1)
    fresh = task("new")
    (start,) = scheduler.plan([fresh], [member("bad"), member("good")], 1)
    assert start.dispatch == "good"
    clock.advance(31.0)  # the breaker half-opens: "bad" may get a probe again
    assert scheduler.breaker("bad").available()


def test_a_poison_task_does_not_trip_the_breaker_of_the_agents_it_fails_on() -> None:
    clock = ManualClock()
    scheduler = make(clock)
    for i in range(5):
        scheduler.plan([running(f"t{i}", "a", clock, outcome="error")], [member("a")], 1)
    assert scheduler.breaker("a").available()
