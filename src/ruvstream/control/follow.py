"""Following the registry: join, update and leave events from a watch plus a lapse sweep.

``MembershipView`` is the pure part: it folds store changes (and the passing
of time) into events. A put of a node not yet known is a ``join``; a later
put is an ``update`` (state, address or figures changed); a delete, a put
that reads ``gone``, or an entry whose heartbeat lapsed is a ``leave``.
Each node is announced at most once per join: no ``update`` or ``leave``
for a node the view does not hold, no second ``join`` without a ``leave``.

``follow`` runs a view over a live watch and calls a handler per event; the
router and the coordinator use it to track nodes without restarts.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from typing import Literal

from .membership import Member, NodeState, Registry
from .store import Change, Entry

__all__ = ["MembershipEvent", "MembershipView", "follow"]

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class MembershipEvent:
    kind: Literal["join", "update", "leave"]
    member: Member


class MembershipView:
    def __init__(self) -> None:
        self.members: dict[str, Member] = {}

    def apply(self, change: Change, now: float) -> list[MembershipEvent]:
        known = self.members.get(change.key)
        if change.value is None:
            return self._leave(change.key) if known else []
        try:
            member = Member.decode(Entry(change.key, change.value, change.revision)).seen_at(now)
        except (ValueError, KeyError, TypeError):
            log.warning("ignoring a malformed registry entry %s: %.200r", change.key, change.value)
            return []
        if member.state is NodeState.GONE:
            return self._leave(change.key) if known else []
        self.members[change.key] = member
        return [MembershipEvent("update" if known else "join", member)]

    def sweep(self, now: float) -> list[MembershipEvent]:
        lapsed = [key for key, m in self.members.items() if m.lapsed(now)]
        return [event for key in lapsed for event in self._leave(key, now)]

    def _leave(self, key: str, now: float | None = None) -> list[MembershipEvent]:
        member = self.members.pop(key)
        gone = member.seen_at(now) if now is not None else member
        return [MembershipEvent("leave", replace(gone, state=NodeState.GONE))]


Handler = Callable[[MembershipEvent], Awaitable[None] | None]


async def follow(
    registry: Registry,
    handler: Handler,
    *,
    sweep_every: float = 1.0,
    view: MembershipView | None = None,
) -> None:
    """Feed every membership event to ``handler`` until cancelled.

    A watch that fails (the connection dropped) is opened again after a pause; the
    view is kept, so nodes seen before are updated rather than joined twice, and
    nodes that left meanwhile leave once their heartbeat has lapsed.
    """
    view = view or MembershipView()
    while True:
        try:
            await _follow_once(registry, handler, sweep_every, view)
        except Exception:
            log.warning("the registry watch failed; watching again", exc_info=True)
            await asyncio.sleep(sweep_every)


async def _follow_once(
    registry: Registry, handler: Handler, sweep_every: float, view: MembershipView
) -> None:
    async with registry.store.watch() as changes:
        iterator = aiter(changes)
        while True:
            try:
                change = await asyncio.wait_for(anext(iterator), timeout=sweep_every)
            except TimeoutError:
                events = view.sweep(registry.clock.now())
            else:
                events = view.apply(change, registry.clock.now())
                events += view.sweep(registry.clock.now())
            for event in events:
                try:
                    result = handler(event)
                    if inspect.isawaitable(result):
                        await result
                except Exception:
                    log.exception("membership handler failed on %s %s", event.kind, event.member.id)
