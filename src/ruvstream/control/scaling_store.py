"""The scaling bucket: the orchestrator's saved state and its recent decisions.

Keys (one bucket, ``ControlNames.scaling``):

- ``scaling/reactive`` and ``scaling/capacity``: ``Orchestrator.export_state``
  (``STATE_KEYS``), written after every acting round, read at each new term;
- ``decisions``: the newest ``keep`` decisions as a JSON array, oldest first
  (``Decision.to_json`` each), what ``ruvstream control decisions`` prints.

One writer (the leader), so plain puts; a deposed leader's last put can land
after its successor's first, which costs one round of stale decisions in the
log and nothing else (the swarm and the router fence on the token).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from .scaling import STATE_KEYS, Decision
from .store import CoordinationStore

__all__ = ["DECISIONS_KEY", "ScalingStore", "query_decisions"]

DECISIONS_KEY = "decisions"


class ScalingStore:
    def __init__(self, bucket: CoordinationStore, keep: int = 500) -> None:
        self.bucket = bucket
        self.keep = keep

    async def load_state(self) -> dict[str, bytes]:
        found = {}
        for key in STATE_KEYS:
            entry = await self.bucket.get(key)
            if entry is not None:
                found[key] = entry.value
        return found

    async def save_state(self, state: dict[str, bytes]) -> None:
        for key, value in state.items():
            await self.bucket.put(key, value)

    async def decisions(self) -> list[dict[str, Any]]:
        entry = await self.bucket.get(DECISIONS_KEY)
        if entry is None:
            return []
        items = json.loads(entry.value)
        return [d for d in items if isinstance(d, dict)] if isinstance(items, list) else []

    async def append_decisions(self, new: Iterable[Decision]) -> None:
        added = [d.to_json() for d in new]
        if not added:
            return
        kept = (await self.decisions() + added)[-self.keep :]
        await self.bucket.put(DECISIONS_KEY, json.dumps(kept).encode())


def query_decisions(
    decisions: Iterable[dict[str, Any]],
    *,
    region: str | None = None,
    changed_only: bool = False,
    limit: int | None = None,
) -> list[dict[str, Any]]:
    """Stored decisions matching the filters, oldest first; ``limit`` keeps the newest."""
    out = [
        d
        for d in decisions
        if (region is None or d.get("region") == region)
        and (not changed_only or d.get("desired") != d.get("previous"))
    ]
    return out if limit is None else out[-limit:]
