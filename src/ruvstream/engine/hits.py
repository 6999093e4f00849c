"""What a search asks (``SearchRequest``) and answers (``FoundSlots``, then ``Hit``)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, NamedTuple

import numpy as np

from ruvstream.core.filters import Filter
from ruvstream.index.base import Matrix

__all__ = ["FoundSlots", "Hit", "SearchRequest"]


@dataclass(frozen=True, slots=True)
class SearchRequest:
    vector: Matrix
    k: int
    ef: int | None = None
    predicate: Filter | None = None
    filter_key: str | None = None
    """The filter's canonical text: equal keys select the same records."""


class Hit(NamedTuple):
    """One search result; a tuple because thousands are built per batch."""

    id: str
    score: float
    metadata: dict[str, Any]


class FoundSlots:
    """One query's answer as the index gave it: scores and slots.

    ``hits()`` maps slots to ids through the slot table of the moment of the
    search and skips records deleted since, so it may run later, on another
    thread, without a lock.
    """

    __slots__ = ("_k", "_metadata", "_row", "_scores", "_slot_ids", "_slots")

    def __init__(
        self,
        metadata: dict[str, dict[str, Any]],
        slot_ids: list[str | None],
        scores: Matrix,
        slots: np.ndarray[Any, Any],
        row: int,
        k: int,
    ) -> None:
        # The collection's live metadata dict (never replaced): a deleted record is gone from it.
        self._metadata = metadata
        self._slot_ids = slot_ids
        self._scores = scores  # the whole batch's: rows are cut on the loop, not here
        self._slots = slots
        self._row = row
        self._k = k

    def hits(self) -> list[Hit]:
        k, slot_ids, metadata = self._k, self._slot_ids, self._metadata.get
        scores, slots = self._scores[self._row, :k].tolist(), self._slots[self._row, :k].tolist()
        hits: list[Hit] = []
        for score, slot in zip(scores, slots, strict=True):
            if slot < 0:
                break
            record_id = slot_ids[slot]
            if record_id is not None and (meta := metadata(record_id)) is not None:
                hits.append(Hit(record_id, score, meta))
        return hits
