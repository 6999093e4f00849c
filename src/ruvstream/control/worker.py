"""The agent's task worker: runs the attempts the coordinator sends to this node.

Outcomes: ``ok``; ``error`` when the task itself failed (it would anywhere);
``fault`` when this agent could not run it (no executor, timeout, an OS error).

For each order on ``agent.<node id>`` it checks, in turn: the order's
fencing token passes the agent's ``Fence`` (an order from a deposed leader
is dropped); the task record still names this agent and this attempt, with
no outcome yet (an attempt already failed over is dropped); the attempt is
not already running here (a redelivery). It then runs the task's executor
within the task's timeout and reports the outcome into the record with a
compare-and-set, and only then acks the order, so a worker that dies
mid-attempt leaves the order to be failed over, never lost.

The executors that run against the node are in ``executors``.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import replace
from typing import Any

from ruvstream.core.clock import Clock, SystemClock

from .coordinator import agent_queue
from .fence import Fence
from .queue import Job, WorkQueue
from .store import CompareAndSetError, CoordinationStore
from .tasks import Task, TaskState

__all__ = ["Executor", "TaskWorker", "start_worker"]

log = logging.getLogger(__name__)

Executor = Callable[[dict[str, Any]], Awaitable[dict[str, Any]]]


class TaskWorker:
    def __init__(
        self,
        agent_id: str,
        tasks: CoordinationStore,
        queue: WorkQueue,
        executors: Mapping[str, Executor],
        *,
        fence: Fence | None = None,
        clock: Clock | None = None,
        concurrency: int = 2,
        on_refused: Callable[[], None] | None = None,
    ) -> None:
        self.agent_id = agent_id
        self.tasks = tasks
        self.queue = queue
        self.executors = dict(executors)
        self.fence = fence or Fence()
        self.clock = clock or SystemClock()
        self._slots = asyncio.Semaphore(concurrency)
        self._active: set[tuple[str, int]] = set()
        self._running: set[asyncio.Task[None]] = set()
        self.completed = 0
        self._on_refused = on_refused

    async def poll(self, wait: float = 1.0) -> int:
        """Take the orders waiting now and start them; returns how many were taken."""
        jobs = await self.queue.pull(agent_queue(self.agent_id), batch=4, wait=wait)
        for job in jobs:
            await self._slots.acquire()
            task = asyncio.create_task(self._handle(job))
            self._running.add(task)
            task.add_done_callback(self._done)
        return len(jobs)

    def _done(self, task: asyncio.Task[None]) -> None:
        self._running.discard(task)
        self._slots.release()

    async def drain(self) -> None:
        """Wait for the attempts started so far (tests, shutdown)."""
        while self._running:
            await asyncio.gather(*list(self._running), return_exceptions=True)

    async def run(self) -> None:
        while True:
            try:
                await self.poll()
            except Exception:
                log.warning("task worker of %s could not poll", self.agent_id, exc_info=True)
                await asyncio.sleep(1.0)

    async def _handle(self, job: Job) -> None:
        try:
            order = json.loads(job.data)
            task_id, attempt, token = str(order["id"]), int(order["attempt"]), int(order["token"])
        except (ValueError, KeyError, TypeError):
            await job.ack()
            return
        if (task_id, attempt) in self._active:
            return  # a redelivery of an attempt running here: its ack comes from that run
        if not self.fence.admit(token):
            log.warning(
                "refused task %s: token %d is older than %d", task_id, token, self.fence.newest
            )
            if self._on_refused is not None:
                self._on_refused()
            await job.ack()
            return
        task = await self._current(task_id, attempt)
        if task is None:
            await job.ack()
            return
        self._active.add((task_id, attempt))
        try:
            outcome, result, error = await self._execute(task)
            await self._report(task_id, attempt, outcome, result, error)
            await job.ack()
        finally:
            self._active.discard((task_id, attempt))

    async def _current(self, task_id: str, attempt: int) -> Task | None:
        entry = await self.tasks.get(task_id)
        if entry is None:
            return None
        task = Task.decode(entry.value, entry.revision)
        mine = task.agent == self.agent_id and task.attempt == attempt
        return task if mine and task.state is TaskState.RUNNING and task.outcome is None else None

    async def _execute(self, task: Task) -> tuple[str, dict[str, Any] | None, str | None]:
        executor = self.executors.get(task.kind)
        if executor is None:
            return "fault", None, f"{self.agent_id} cannot run {task.kind!r} tasks"
        started = time.monotonic()
        try:
            async with asyncio.timeout(task.timeout):
                result = await executor(dict(task.payload))
        except TimeoutError:
            return "fault", None, f"timed out after {task.timeout:g}s on {self.agent_id}"
        except OSError as exc:  # the agent's machine failed it (disk, network), not the task
            return "fault", None, f"{type(exc).__name__} on {self.agent_id}: {exc}"
        except Exception as exc:
            return "error", None, f"{type(exc).__name__} on {self.agent_id}: {exc}"
        log.info("task %s (%s) done in %.2fs", task.id, task.kind, time.monotonic() - started)
        return "ok", result, None

    async def _report(
        self,
        task_id: str,
        attempt: int,
        outcome: str,
        result: dict[str, Any] | None,
        error: str | None,
    ) -> None:
        for _ in range(5):
            task = await self._current(task_id, attempt)
            if task is None:
                return  # failed over meanwhile: this attempt no longer counts
            errors = task.errors if error is None else (*task.errors, error)
            reported = replace(task, outcome=outcome, result=result, errors=errors)
            try:
                await self.tasks.update(task_id, reported.encode(), task.revision)
            except CompareAndSetError:
                continue
            self.completed += 1
            return


async def start_worker(agent: Any, backend: Any, state: Any, replication: Any = None) -> TaskWorker:
    """Open the tasks bucket and the work queue on the agent's connection, start working."""
    from .executors import node_executors
    from .queue.jetstream import JetStreamWorkQueue

    names = agent.names
    tasks = await backend.bucket(names.tasks)
    queue = await JetStreamWorkQueue.open(
        backend.client, names.queue_stream, names.dead_stream, names.subject_root, ack_wait=60.0
    )
    from prometheus_client import Counter

    refused = Counter(
        "ruvstream_control_refused_orders_total",
        "Task orders refused because a newer leader's token was already seen",
        registry=agent.node.metrics_registry,
    )
    executors = node_executors(agent.node, state, agent, replication)
    worker = TaskWorker(
        agent.node_id, tasks, queue, executors, clock=agent.clock, on_refused=refused.inc
    )
    agent.add_task(asyncio.create_task(worker.run()))
    agent.add_closer(queue.close)
    return worker
