"""Control tasks: what a task is, the states it passes through, and its stored form.

A task record lives in the tasks bucket under its id and is the truth about
the task; the work queue only carries it (on submission, and to the agent
that runs one attempt). States::

    queued -> running -> (agent reports an outcome) -> done
                 |
                 +-> retrying (after a failed attempt, until not_before) -> running ...
                 +-> dead     (after max_attempts failed attempts; also on the dead-letter subject)

An attempt fails when the agent reports an error, when it outlives the
task's ``timeout``, or when its agent's heartbeat lapses (failover). Every
change of a record is a compare-and-set, so the leader's scheduler and the
agent reporting an outcome never overwrite each other, and an agent whose
attempt was already failed over cannot report into the next one.
"""

from __future__ import annotations

import enum
import json
import uuid
from dataclasses import asdict, dataclass, field, replace
from typing import Any

__all__ = ["KINDS", "Task", "TaskState", "new_task"]

KINDS = ("snapshot", "compaction", "bootstrap", "resync", "drain")


class TaskState(enum.StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    RETRYING = "retrying"
    DONE = "done"
    DEAD = "dead"

    @property
    def finished(self) -> bool:
        return self in (TaskState.DONE, TaskState.DEAD)


@dataclass(frozen=True, slots=True)
class Task:
    id: str
    kind: str
    payload: dict[str, Any] = field(default_factory=dict)
    priority: int = 0
    """Higher first; equal priorities go oldest first."""
    region: str | None = None
    """Only agents of this region may run it (None: any)."""
    timeout: float = 30.0
    max_attempts: int = 3
    created: float = 0.0
    state: TaskState = TaskState.QUEUED
    attempt: int = 0
    agent: str | None = None
    token: int = 0
    """Fencing token of the leader that started the current attempt."""
    deadline: float = 0.0
    not_before: float = 0.0
    errors: tuple[str, ...] = ()
    outcome: str | None = None
    """The agent's report on the current attempt: "ok", "error" (the task failed) or
    "fault" (the agent could not run it); None: nothing yet."""
    result: dict[str, Any] | None = None
    finished_at: float = 0.0
    revision: int = 0

    def order(self) -> tuple[int, float, str]:
        return (-self.priority, self.created, self.id)

    def encode(self) -> bytes:
        body = asdict(self)
        body.pop("revision")
        body["state"] = self.state.value
        body["errors"] = list(self.errors)
        return json.dumps(body, separators=(",", ":")).encode()

    @classmethod
    def decode(cls, data: bytes, revision: int = 0) -> Task:
        body = json.loads(data)
        body["state"] = TaskState(body.get("state", "queued"))
        body["errors"] = tuple(body.get("errors") or ())
        known = set(cls.__dataclass_fields__)
        return cls(**{k: v for k, v in body.items() if k in known}, revision=revision)

    def with_revision(self, revision: int) -> Task:
        return replace(self, revision=revision)


def new_task(
    kind: str,
    payload: dict[str, Any] | None = None,
    *,
    priority: int = 0,
    region: str | None = None,
    timeout: float = 30.0,
    max_attempts: int = 3,
    created: float = 0.0,
    task_id: str | None = None,
) -> Task:
    if kind not in KINDS:
        raise ValueError(f"unknown task kind {kind!r}; choose from {', '.join(KINDS)}")
    if max_attempts < 1 or timeout <= 0:
        raise ValueError("need max_attempts >= 1 and timeout > 0")
    return Task(
        id=task_id or f"task-{uuid.uuid4().hex[:16]}",
        kind=kind,
        payload=dict(payload or {}),
        priority=priority,
        region=region,
        timeout=timeout,
        max_attempts=max_attempts,
        created=created,
    )
