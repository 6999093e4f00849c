from __future__ import annotations

from ruvstream.control.figures import Figures
from ruvstream.control.membership import Member, NodeState, Registry
from ruvstream.control.store import MemoryStore
from ruvstream.core.clock import ManualClock


def member(
    node_id: str,
    region: str = "r1",
    *,
    state: NodeState = NodeState.SERVING,
    capacity: int = 100,
    cpu: float = 0.0,
    updated: float = 0.0,
) -> Member:
    return Member(
        id=node_id,
        region=region,
        address=f"http://{node_id}",
        capacity=capacity,
        state=state,
        figures=Figures(cpu_percent=cpu),
        updated=updated,
        lapse=10.0,
    )


def registry(clock: ManualClock, lapse: float = 10.0) -> Registry:
    return Registry(MemoryStore("members", ttl=lapse, clock=clock), clock)
