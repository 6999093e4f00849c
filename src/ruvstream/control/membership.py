"""The membership registry: one KV entry per node, kept alive by its heartbeats.

An entry is ``node id -> {region, role, address, capacity, state, figures,
updated, token}``. The node's agent writes it and refreshes it every
heartbeat; the bucket's TTL is the *lapse* time, so a node that stops
beating disappears, and any reader that finds ``updated`` older than the
lapse already counts it ``gone`` (clocks of members are assumed to agree to
well within the lapse, as NTP keeps them).

States move one way only: ``starting -> serving -> draining -> gone``. A
heartbeat never moves an entry back (a node marked ``draining`` by the
leader stays draining while it keeps beating), and every change is a
compare-and-set on the entry's revision, so the agent's heartbeat and the
leader's state change never overwrite each other. ``token`` is the fencing
token of the last leader action on the entry (0: none).
"""

from __future__ import annotations

import enum
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from ruvstream.core.clock import Clock, SystemClock

from .figures import Figures
from .store import CompareAndSetError, CoordinationStore, Entry, check_key

__all__ = ["Member", "NodeState", "Registry"]


class NodeState(enum.StrEnum):
    STARTING = "starting"
    SERVING = "serving"
    DRAINING = "draining"
    GONE = "gone"

    @property
    def rank(self) -> int:
        return list(NodeState).index(self)


@dataclass(frozen=True, slots=True)
class Member:
    id: str
    region: str
    address: str
    role: str = "node"
    capacity: int = 256
    state: NodeState = NodeState.STARTING
    figures: Figures = field(default_factory=Figures)
    updated: float = 0.0
    lapse: float = 10.0
    token: int = 0
    revision: int = 0

    def lapsed(self, now: float) -> bool:
        return now - self.updated > self.lapse

    def seen_at(self, now: float) -> Member:
        """This entry as a reader at wall time ``now`` judges it (lapsed: ``gone``)."""
        return replace(self, state=NodeState.GONE) if self.lapsed(now) else self

    @property
    def routable(self) -> bool:
        return self.state is NodeState.SERVING

    def encode(self) -> bytes:
        body = {
            "region": self.region,
            "address": self.address,
            "role": self.role,
            "capacity": self.capacity,
            "state": self.state.value,
            "figures": self.figures.to_json(),
            "updated": self.updated,
            "lapse": self.lapse,
            "token": self.token,
        }
        return json.dumps(body, separators=(",", ":")).encode()

    @classmethod
    def decode(cls, entry: Entry) -> Member:
        body: Mapping[str, Any] = json.loads(entry.value)
        return cls(
            id=entry.key,
            region=str(body["region"]),
            address=str(body["address"]),
            role=str(body.get("role", "node")),
            capacity=int(body.get("capacity", 256)),
            state=NodeState(body.get("state", "starting")),
            figures=Figures.from_json(body.get("figures")),
            updated=float(body.get("updated", 0.0)),
            lapse=float(body.get("lapse", 10.0)),
            token=int(body.get("token", 0)),
            revision=entry.revision,
        )


Change = Callable[[Member], Member | None]


class Registry:
    """Reads and writes membership entries in one bucket (whose TTL is the lapse)."""

    def __init__(self, store: CoordinationStore, clock: Clock | None = None) -> None:
        self.store = store
        self.clock = clock or SystemClock()

    @property
    def lapse(self) -> float:
        return self.store.ttl or 10.0

    async def join(self, member: Member) -> Member:
        """Write this node's entry as given (a new node, or one coming back)."""
        check_key(member.id)
        fresh = replace(member, updated=self.clock.now(), lapse=self.lapse)
        revision = await self.store.put(member.id, fresh.encode())
        return replace(fresh, revision=revision)

    async def get(self, node_id: str) -> Member | None:
        entry = await self.store.get(node_id)
        return None if entry is None else Member.decode(entry).seen_at(self.clock.now())

    async def members(self) -> list[Member]:
        now = self.clock.now()
        return [Member.decode(e).seen_at(now) for e in (await self.store.entries()).values()]

    async def modify(self, node_id: str, change: Change, *, attempts: int = 8) -> Member | None:
        """Read-change-compare-and-set until it sticks; None when absent or ``change`` says so."""
        for _ in range(attempts):
            entry = await self.store.get(node_id)
            if entry is None:
                return None
            wanted = change(Member.decode(entry))
            if wanted is None:
                return None
            try:
                revision = await self.store.update(node_id, wanted.encode(), entry.revision)
            except CompareAndSetError:
                continue
            return replace(wanted, revision=revision)
        raise CompareAndSetError(node_id, f"entry kept changing over {attempts} attempts")

    async def heartbeat(self, template: Member, figures: Figures) -> Member:
        """Refresh ``template.id`` with new figures; re-join if the entry lapsed away.

        The state only moves forward: the larger of the entry's and the template's.
        """

        def beat(current: Member) -> Member:
            state = max(current.state, template.state, key=lambda s: s.rank)
            return replace(
                current,
                address=template.address,
                capacity=template.capacity,
                state=state,
                figures=figures,
                updated=self.clock.now(),
                lapse=self.lapse,
            )

        beaten = await self.modify(template.id, beat)
        if beaten is None:
            beaten = await self.join(replace(template, figures=figures))
        return beaten

    async def set_state(self, node_id: str, state: NodeState, token: int = 0) -> Member | None:
        """Move a node forward to ``state`` (never back), stamped with a leader's ``token``."""

        def move(current: Member) -> Member | None:
            if state.rank < current.state.rank:
                return None
            return replace(current, state=state, token=max(token, current.token))

        return await self.modify(node_id, move)

    async def leave(self, node_id: str) -> None:
        await self.store.delete(node_id)
