"""The coordinator and agents' workers end to end, in memory on one clock."""

from __future__ import annotations

import json
from typing import Any

from ruvstream.control.coordinator import Coordinator, agent_queue, read_tasks, submit, task_summary
from ruvstream.control.membership import Registry
from ruvstream.control.queue import MemoryWorkQueue
from ruvstream.control.scheduler import Scheduler
from ruvstream.control.store import MemoryStore
from ruvstream.control.tasks import Task, TaskState, new_task
from ruvstream.control.worker import Executor, TaskWorker
from ruvstream.core.clock import ManualClock
from ruvstream.core.retry import Backoff

from .helpers import member


class Plane:
    def __init__(self) -> None:
        self.clock = ManualClock()
        self.registry = Registry(MemoryStore("m", ttl=10.0, clock=self.clock), self.clock)
        self.tasks = MemoryStore("tasks", clock=self.clock)
        self.queue = MemoryWorkQueue(ack_wait=60.0, clock=self.clock)
        scheduler = Scheduler(backoff=Backoff(base=1.0, cap=4.0), clock=self.clock)
        self.coordinator = Coordinator(
            self.tasks, self.queue, self.registry, scheduler, clock=self.clock
        )
        self.ran: list[tuple[str, str]] = []

    async def join(self, node_id: str, region: str = "r1") -> None:
        await self.registry.join(member(node_id, region))

    def worker(self, node_id: str, fail: bool = False) -> TaskWorker:
        async def run(payload: dict[str, Any]) -> dict[str, Any]:
            self.ran.append((node_id, str(payload.get("n"))))
            if fail:
                raise RuntimeError("index corrupt")
            return {"by": node_id}

        executors: dict[str, Executor] = {"snapshot": run, "compaction": run}
        return TaskWorker(node_id, self.tasks, self.queue, executors, clock=self.clock)

    async def state(self, task_id: str) -> Task:
        (found,) = [t for t in await read_tasks(self.tasks) if t.id == task_id]
        return found


async def test_a_submitted_task_runs_once_and_is_done() -> None:
    plane = Plane()
    await plane.join("n1")
    worker = plane.worker("n1")
    task_id = await submit(plane.queue, new_task("snapshot", {"n": 1}))
    await submit(plane.queue, new_task("snapshot", {"n": 1}, task_id=task_id))  # re-sent
    await plane.coordinator.tick(token=3)
    assert (await plane.state(task_id)).state is TaskState.RUNNING
    assert await worker.poll(wait=0) == 1
    await worker.drain()
    await plane.coordinator.tick(token=3)
    done = await plane.state(task_id)
    assert done.state is TaskState.DONE and done.result == {"by": "n1"} and done.attempt == 1
    assert plane.ran == [("n1", "1")]
    assert task_summary(await read_tasks(plane.tasks))["counts"]["done"] == 1


async def test_a_task_that_always_fails_is_dead_after_max_attempts_and_buried() -> None:
    plane = Plane()
    await plane.join("n1")
    worker = plane.worker("n1", fail=True)
    task_id = await submit(plane.queue, new_task("compaction", max_attempts=3))
    for _ in range(3):
        await plane.join("n1")  # its heartbeat
        await plane.coordinator.tick(token=1)
        await worker.poll(wait=0)
        await worker.drain()
        await plane.coordinator.tick(token=1)
        plane.clock.advance(5.0)  # past the retry backoff
    dead = await plane.state(task_id)
    assert dead.state is TaskState.DEAD and dead.attempt == 3
    assert len(dead.errors) == 3 and all("index corrupt" in e for e in dead.errors)
    (buried,) = await plane.queue.buried()
    assert Task.decode(buried).id == task_id


async def test_a_task_held_by_a_lost_agent_finishes_on_another() -> None:
    plane = Plane()
    await plane.join("a")
    task_id = await submit(plane.queue, new_task("snapshot", {"n": 7}, max_attempts=3))
    await plane.coordinator.tick(token=1)
    held = await plane.state(task_id)
    assert held.agent == "a" and held.state is TaskState.RUNNING
    # "a" dies holding it (never polls); "b" joins; "a"'s heartbeat lapses.
    await plane.join("b")
    plane.clock.advance(11.0)
    await plane.registry.join(member("b"))
    await plane.coordinator.tick(token=1)
    plane.clock.advance(5.0)
    await plane.registry.join(member("b"))
    await plane.coordinator.tick(token=1)
    assert (await plane.state(task_id)).agent == "b"
    worker = plane.worker("b")
    await worker.poll(wait=0)
    await worker.drain()
    await plane.coordinator.tick(token=1)
    done = await plane.state(task_id)
    assert done.state is TaskState.DONE and done.attempt == 2 and "lost" in done.errors[0]
    assert await plane.queue.pull(agent_queue("a"), wait=0) == []  # purged


async def test_an_order_from_a_deposed_leader_is_refused() -> None:
    plane = Plane()
    await plane.join("n1")
    worker = plane.worker("n1")
    worker.fence.admit(9)  # the agent has already seen leader 9
    await submit(plane.queue, new_task("snapshot"))
    await plane.coordinator.tick(token=4)  # an older leader still acting
    await worker.poll(wait=0)
    await worker.drain()
    assert plane.ran == [] and worker.fence.refused == 1


async def test_a_late_report_from_a_failed_over_attempt_does_not_count() -> None:
    plane = Plane()
    await plane.join("a")
    task_id = await submit(plane.queue, new_task("snapshot"))
    await plane.coordinator.tick(token=1)
    (order,) = await plane.queue.pull(agent_queue("a"), wait=0)
    body = json.loads(order.data)
    await plane.queue.put(agent_queue("a"), order.data)  # delivered again, later
    plane.clock.advance(31.0)  # timed out meanwhile, now retrying
    await plane.registry.join(member("a"))
    await plane.coordinator.tick(token=1)
    assert (await plane.state(task_id)).state is TaskState.RETRYING
    worker = plane.worker("a")
    await worker.poll(wait=0)
    await worker.drain()
    assert plane.ran == [] and body["attempt"] == 1


async def test_deferred_background_tasks_wait_queued_and_others_still_start() -> None:
    plane = Plane()
    await plane.join("n1")
    snapshot = await submit(plane.queue, new_task("snapshot", {"n": 1}))
    resync = await submit(plane.queue, new_task("resync", {"n": 2}))
    plane.coordinator.defer_background(True)
    await plane.coordinator.tick(token=3)
    assert (await plane.state(snapshot)).state is TaskState.QUEUED
    assert (await plane.state(resync)).state is TaskState.RUNNING
    await plane.coordinator.tick(token=3)
    assert (await plane.state(snapshot)).state is TaskState.QUEUED
    plane.coordinator.defer_background(False)
    await plane.coordinator.tick(token=3)
    assert (await plane.state(snapshot)).state is TaskState.RUNNING
