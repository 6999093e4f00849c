"""The coordinator's decisions, pure: which attempt fails, which task starts where.

``Scheduler.plan`` looks at every task record and the live members and
returns transitions (record before -> record after, plus what to send);
the coordinator applies each with a compare-and-set and skips the ones that
lost a race. Rules, in order:

1. a running attempt with an outcome settles: ``ok`` -> done, ``error`` (the
   task failed) or ``fault`` (the agent could not run it) -> a failed attempt;
   one without an outcome fails when its agent is no longer alive (failover)
   or its deadline passed (timeout);
2. a failed attempt retries after a jittered backoff (``client.retry.Backoff``,
   full jitter) unless it was the ``max_attempts``-th: then the task is dead
   and goes to the dead-letter subject;
3. queued and due retrying tasks start, highest priority first (then oldest),
   each on the agent the strategy picks among those alive and serving, in
   the task's region if it names one, whose breaker admits a call.

Each agent has a ``CircuitBreaker`` (the router's, on the same clock): a
fault or a timed-out attempt counts against it, so an agent that keeps
failing stops getting tasks until its breaker half-opens. A task's own error
(bad input: it would fail anywhere) counts as a call the agent answered, so a
poison task goes to the dead letters without tripping every agent's breaker.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

from ruvstream.core.breaker import BreakerConfig, CircuitBreaker
from ruvstream.core.clock import Clock, SystemClock
from ruvstream.core.retry import Backoff

from .membership import Member, NodeState
from .placement import Candidate, Placement, make_placement
from .tasks import Task, TaskState

__all__ = ["TASK_BREAKER", "Scheduler", "Transition"]

TASK_BREAKER = BreakerConfig(failure_rate=0.5, window=10, min_calls=3, open_wait=30.0)


@dataclass(frozen=True, slots=True)
class Transition:
    before: Task
    after: Task
    dispatch: str | None = None
    """Send the attempt to this agent."""
    bury: bool = False
    """Put the dead task on the dead-letter subject."""


class Scheduler:
    def __init__(
        self,
        *,
        strategy: str = "round-robin",
        backoff: Backoff | None = None,
        breaker: BreakerConfig = TASK_BREAKER,
        clock: Clock | None = None,
        rng: Callable[[], float] = random.random,
    ) -> None:
        self.placement: Placement = make_placement(strategy)
        self.backoff = backoff or Backoff(base=0.5, cap=30.0)
        self.breaker_config = breaker
        self.clock = clock or SystemClock()
        self.rng = rng
        self.breakers: dict[str, CircuitBreaker] = {}

    def breaker(self, agent: str) -> CircuitBreaker:
        found = self.breakers.get(agent)
        if found is None:
            found = self.breakers[agent] = CircuitBreaker(self.breaker_config, self.clock)
        return found

    def plan(
        self, tasks: Sequence[Task], members: Sequence[Member], token: int
    ) -> list[Transition]:
        now = self.clock.now()
        alive = {m.id: m for m in members if m.state in (NodeState.SERVING, NodeState.STARTING)}
        settled = [t for t in (self._settle(task, alive, now) for task in tasks) if t is not None]
        changed = {t.before.id for t in settled}
        # A task settled this round starts on a later one: its record's revision moved.
        current = [t.after for t in settled] + [task for task in tasks if task.id not in changed]
        return settled + self._start(current, alive, now, token, skip=changed)

    def _settle(self, task: Task, alive: dict[str, Member], now: float) -> Transition | None:
        if task.state is not TaskState.RUNNING:
            return None
        agent = task.agent or ""
        if task.outcome == "ok":
            self.breaker(agent).record(True)
            done = replace(task, state=TaskState.DONE, finished_at=now)
            return Transition(task, done)
        if task.outcome in ("error", "fault"):
            self.breaker(agent).record(task.outcome == "error")
            return self._fail(task, None, now)
        if agent not in alive:
            self.breaker(agent).release()
            return self._fail(task, f"agent {agent} was lost (heartbeat lapsed)", now)
        if now > task.deadline:
            self.breaker(agent).record(False, task.timeout)
            return self._fail(task, f"timed out after {task.timeout:g}s on {agent}", now)
        return None

    def _fail(self, task: Task, error: str | None, now: float) -> Transition:
        errors = task.errors if error is None else (*task.errors, error)
        base = replace(task, errors=errors, outcome=None, agent=None, deadline=0.0)
        if task.attempt >= task.max_attempts:
            return Transition(task, replace(base, state=TaskState.DEAD, finished_at=now), bury=True)
        delay = self.backoff.delay(task.attempt - 1, self.rng)
        return Transition(task, replace(base, state=TaskState.RETRYING, not_before=now + delay))

    def _start(
        self,
        tasks: Sequence[Task],
        alive: dict[str, Member],
        now: float,
        token: int,
        skip: set[str],
    ) -> list[Transition]:
        running: dict[str, int] = {}
        for task in tasks:
            if task.state is TaskState.RUNNING and task.agent:
                running[task.agent] = running.get(task.agent, 0) + 1
        due = [
            t
            for t in tasks
            if t.state in (TaskState.QUEUED, TaskState.RETRYING)
            and t.not_before <= now
            and t.id not in skip
        ]
        started: list[Transition] = []
        for task in sorted(due, key=Task.order):
            candidates = [
                Candidate(m.id, m.region, m.capacity, running.get(m.id, 0), m.figures)
                for m in sorted(alive.values(), key=lambda m: m.id)
                if m.state is NodeState.SERVING
                and (task.region is None or m.region == task.region)
                and self.breaker(m.id).available()
            ]
            if not candidates:
                continue
            chosen = self.placement.pick(candidates, task.region)
            if not self.breaker(chosen.id).allow():
                continue
            running[chosen.id] = running.get(chosen.id, 0) + 1
            after = replace(
                task,
                state=TaskState.RUNNING,
                attempt=task.attempt + 1,
                agent=chosen.id,
                token=token,
                deadline=now + task.timeout,
                outcome=None,
            )
            started.append(Transition(task, after, dispatch=chosen.id))
        return started
