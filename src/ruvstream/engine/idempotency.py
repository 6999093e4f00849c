"""Idempotency keys: a retried write is answered, not applied again.

Keys are scoped by collection, remembered for ``ttl`` seconds of wall time
(their op's HLC time), and rebuilt from the WAL and snapshots on restart, so
a client that retries across a crash still gets exactly-once application.
"""

from __future__ import annotations

from collections import OrderedDict
from typing import Any

from ruvstream.core.clock import Clock
from ruvstream.core.records import OpKind, OpRecord

__all__ = ["IdempotencyTable", "answer_for"]


def answer_for(op: OpRecord, deleted: int | None = None) -> dict[str, Any]:
    """The answer a keyed write gave, in the shape its route answers.

    ``deleted`` is what the live apply removed; rebuilt from the WAL it is
    unknown, and the number of ids asked for stands in.
    """
    if op.op is OpKind.UPSERT:
        return {"upserted": len(op.records)}
    if op.op is OpKind.DELETE:
        return {"deleted": len(op.ids) if deleted is None else deleted}
    if op.op is OpKind.CREATE_COLLECTION:
        return {"created": True}
    return {"deleted": True}


class IdempotencyTable:
    def __init__(self, clock: Clock, ttl: float = 600.0) -> None:
        self._clock = clock
        self._ttl = ttl
        self._answers: OrderedDict[tuple[str, str], tuple[float, dict[str, Any]]] = OrderedDict()

    def __len__(self) -> int:
        return len(self._answers)

    def get(self, collection: str, key: str) -> dict[str, Any] | None:
        if not key:
            return None
        self._expire()
        entry = self._answers.get((collection, key))
        return None if entry is None else entry[1]

    def remember(
        self, collection: str, key: str, answer: dict[str, Any], at: float | None = None
    ) -> None:
        if not key:
            return
        stamp = self._clock.now() if at is None else at
        self._answers[(collection, key)] = (stamp, answer)
        self._answers.move_to_end((collection, key))

    def _expire(self) -> None:
        horizon = self._clock.now() - self._ttl
        while self._answers:
            (stamp, _) = next(iter(self._answers.values()))
            if stamp >= horizon:
                break
            self._answers.popitem(last=False)

    def export(self) -> list[list[Any]]:
        self._expire()
        return [[c, k, stamp, answer] for (c, k), (stamp, answer) in self._answers.items()]

    def load(self, rows: list[list[Any]]) -> None:
        for collection, key, stamp, answer in rows:
            self.remember(collection, key, answer, at=stamp)
        self._expire()
