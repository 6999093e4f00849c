"""The coordinator: the leader's task loop over the tasks bucket and the work queue.

Anyone submits a task (``submit``: onto the ``submitted`` queue). The
leader's coordinator, every tick: takes submissions into the tasks bucket
(a record per task, created once: a re-delivered submission is a no-op),
asks the ``Scheduler`` what to change, applies each change with a
compare-and-set on the record (a change that lost a race waits for the next
tick), sends each started attempt to its agent's queue ``agent.<id>``
stamped with the leader's fencing token, buries dead tasks on the
dead-letter subject, and purges the queue of an agent that left.

Leadership is checked by the caller (``ControlMember``): ``tick`` takes the
token of the current term and is only called while the term is trusted.

While service is degraded the scaling loop calls ``defer_background(True)``:
attempts of ``BACKGROUND_KINDS`` (snapshots, compactions) are not started,
the tasks wait queued, and attempts already running finish; bootstrap,
resync and drain, which scaling itself needs, are never held.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable
from dataclasses import replace
from typing import Any

from ruvstream.core.clock import Clock, SystemClock

from .membership import Registry
from .queue import WorkQueue, queue_token
from .scheduler import Scheduler, Transition
from .store import CompareAndSetError, CoordinationStore, KeyExistsError
from .tasks import Task, TaskState

__all__ = [
    "BACKGROUND_KINDS",
    "SUBMITTED",
    "Coordinator",
    "agent_queue",
    "read_tasks",
    "submit",
    "task_summary",
]

log = logging.getLogger(__name__)

SUBMITTED = "submitted"
BACKGROUND_KINDS = frozenset({"snapshot", "compaction"})


def agent_queue(agent: str) -> str:
    return f"agent.{queue_token(agent)}"


async def submit(queue: WorkQueue, task: Task) -> str:
    """Hand a task to the control plane (durable at once; run once a leader takes it)."""
    await queue.put(SUBMITTED, task.encode(), msg_id=task.id)
    return task.id


async def read_tasks(store: CoordinationStore) -> list[Task]:
    return [Task.decode(e.value, e.revision) for e in (await store.entries()).values()]


def task_summary(tasks: Iterable[Task]) -> dict[str, Any]:
    """Counts by state, and the unfinished and dead tasks (for ``cluster_status``)."""
    tasks = list(tasks)
    counts = {state.value: 0 for state in TaskState}
    for task in tasks:
        counts[task.state.value] += 1

    def brief(t: Task) -> dict[str, Any]:
        return {
            "id": t.id,
            "kind": t.kind,
            "state": t.state.value,
            "attempt": t.attempt,
            "agent": t.agent,
            "region": t.region,
            "errors": list(t.errors),
        }

    shown = [t for t in tasks if not t.state.finished or t.state is TaskState.DEAD]
    return {"counts": counts, "total": len(tasks), "open": [brief(t) for t in shown]}


class Coordinator:
    def __init__(
        self,
        tasks: CoordinationStore,
        queue: WorkQueue,
        registry: Registry,
        scheduler: Scheduler | None = None,
        *,
        clock: Clock | None = None,
        retention: float = 3600.0,
    ) -> None:
        self.tasks = tasks
        self.queue = queue
        self.registry = registry
        self.clock = clock or SystemClock()
        self.scheduler = scheduler or Scheduler(clock=self.clock)
        self.retention = retention
        self._agents: set[str] = set()
        self._purged: set[str] = set()
        self.deferring = False

    def defer_background(self, defer: bool) -> None:
        """Hold (True) or release (False) the start of background tasks."""
        if defer != self.deferring:
            log.info("coordinator: background tasks %s", "deferred" if defer else "resumed")
        self.deferring = defer

    async def intake(self, batch: int = 64) -> int:
        taken = 0
        for job in await self.queue.pull(SUBMITTED, batch=batch, wait=0.05):
            try:
                task = Task.decode(job.data)
                if not task.created:
                    task = replace(task, created=self.clock.now())
                await self.tasks.create(task.id, task.encode())
                taken += 1
            except KeyExistsError:
                pass
            except ValueError:
                log.warning("dropping a malformed task submission: %.200r", job.data)
            await job.ack()
        return taken

    async def tick(self, token: int) -> list[Transition]:
        """One round of the loop under fencing token ``token``; returns what it applied."""
        await self.intake()
        members = await self.registry.members()
        tasks = await read_tasks(self.tasks)
        applied = []
        for transition in self.scheduler.plan(tasks, members, token):
            if self._held(transition):
                continue
            if await self._apply(transition, token):
                applied.append(transition)
        named = {t.agent for t in tasks if t.agent}
        await self._forget_departed({m.id for m in members}, named)
        await self._prune(tasks)
        return applied

    def _held(self, transition: Transition) -> bool:
        """A deferred start: the task stays as it was (the agent's slot is released)."""
        agent = transition.dispatch
        if agent is None or not self.deferring or transition.after.kind not in BACKGROUND_KINDS:
            return False
        self.scheduler.breaker(agent).release()
        return True

    async def _apply(self, transition: Transition, token: int) -> bool:
        after = transition.after
        try:
            revision = await self.tasks.update(after.id, after.encode(), transition.before.revision)
        except CompareAndSetError:
            if transition.dispatch:
                self.scheduler.breaker(transition.dispatch).release()
            return False
        if transition.dispatch:
            order = {"id": after.id, "attempt": after.attempt, "token": token}
            await self.queue.put(
                agent_queue(transition.dispatch),
                json.dumps(order).encode(),
                msg_id=f"{after.id}.{after.attempt}",
            )
            self._agents.add(transition.dispatch)
        if transition.bury:
            await self.queue.bury(after.with_revision(revision).encode())
            log.warning("task %s (%s) is dead: %s", after.id, after.kind, "; ".join(after.errors))
        return True

    async def _forget_departed(self, present: set[str], named: set[str]) -> None:
        """Purge, once, the queue of every agent that left (its attempts fail over)."""
        self._purged -= present
        for agent in sorted((self._agents | named) - present - self._purged):
            await self.queue.purge(agent_queue(agent))
            self._agents.discard(agent)
            self._purged.add(agent)

    async def _prune(self, tasks: Iterable[Task]) -> None:
        horizon = self.clock.now() - self.retention
        for task in tasks:
            if task.state.finished and task.finished_at and task.finished_at < horizon:
                try:
                    await self.tasks.delete(task.id, task.revision)
                except CompareAndSetError:
                    continue
