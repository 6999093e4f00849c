"""``cluster_status``: the control plane as the store has it, for people and scripts.

Read-only (it opens existing buckets and creates nothing), so it runs from
any directory against any deployment's NATS. The shape::

    {"leader": {"id", "token", "since", "lease"} | None,
     "nodes": [{"id", "region", "state", "address", "role", "capacity",
                "updated", "figures": {...}}, ...],
     "tasks": {"counts": {state: n}, "total": n, "open": [...]},
     "desired": {region: {"count", "token"}}}

A node whose heartbeat lapsed reads ``gone`` until its entry expires.
"""

from __future__ import annotations

import json
from typing import Any

from ruvstream.core.clock import Clock, SystemClock

from .coordinator import read_tasks, task_summary
from .election import read_leader
from .membership import Member
from .names import ControlNames
from .store import StoreBackend

__all__ = ["cluster_status", "node_status"]


def node_status(member: Member) -> dict[str, Any]:
    return {
        "id": member.id,
        "region": member.region,
        "state": member.state.value,
        "address": member.address,
        "role": member.role,
        "capacity": member.capacity,
        "updated": member.updated,
        "token": member.token,
        "figures": member.figures.to_json(),
    }


async def cluster_status(
    backend: StoreBackend, names: ControlNames, clock: Clock | None = None
) -> dict[str, Any]:
    now = (clock or SystemClock()).now()
    status: dict[str, Any] = {"namespace": names.namespace, "leader": None, "nodes": []}
    election = await backend.find(names.election)
    if election is not None:
        term = await read_leader(election)
        if term is not None:
            status["leader"] = {
                "id": term.holder,
                "token": term.token,
                "since": term.since,
                "lease": term.lease,
            }
    members = await backend.find(names.members)
    if members is not None:
        found = [Member.decode(e).seen_at(now) for e in (await members.entries()).values()]
        status["nodes"] = [node_status(m) for m in sorted(found, key=lambda m: (m.region, m.id))]
    tasks = await backend.find(names.tasks)
    status["tasks"] = task_summary(await read_tasks(tasks) if tasks is not None else [])
    swarm = await backend.find(names.swarm)
    desired: dict[str, Any] = {}
    if swarm is not None:
        for key, entry in (await swarm.entries()).items():
            if key.startswith("desired."):
                desired[key.removeprefix("desired.")] = json.loads(entry.value)
    status["desired"] = desired
    return status
