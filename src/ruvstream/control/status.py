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

__all__ = ["cluster_status", "node_status", "read_status", "render_status"]


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


async def read_status(nats_url: str, namespace: str) -> dict[str, Any]:
    """``cluster_status`` of the control plane behind ``nats_url`` (read-only)."""
    from .store.jetstream import NatsBackend

    backend = await NatsBackend.connect(nats_url)
    try:
        return await cluster_status(backend, ControlNames(namespace))
    finally:
        await backend.close()


def render_status(found: dict[str, Any]) -> str:
    """The status as lines for people: the leader, a line per node, task counts."""
    leader = found["leader"]
    lines = [f"leader: {leader['id']} (token {leader['token']})" if leader else "leader: none"]
    for node in found["nodes"]:
        lines.append(f"{node['region']:<16} {node['id']:<24} {node['state']:<9} {node['address']}")
    counts = ", ".join(f"{k} {v}" for k, v in found["tasks"]["counts"].items() if v)
    lines.append(f"tasks: {counts or 'none'}")
    return "\n".join(lines)
