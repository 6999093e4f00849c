"""Answer bodies, the same on every transport (a WebSocket adds ``id`` and ``type``)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ruvstream.engine import Hit
from ruvstream.engine.collection import StoredRecord

__all__ = ["batch_answer", "hit_json", "record_answer", "search_answer"]


def hit_json(hit: Hit) -> dict[str, Any]:
    return {"id": hit.id, "score": hit.score, "metadata": hit.metadata}


def search_answer(hits: list[Hit], version: int) -> dict[str, Any]:
    return {"hits": [hit_json(h) for h in hits], "version": version}


def batch_answer(results: Sequence[list[Hit]], version: int) -> dict[str, Any]:
    return {
        "results": [{"hits": [hit_json(h) for h in hits]} for hits in results],
        "version": version,
    }


def record_answer(record: StoredRecord) -> dict[str, Any]:
    return {"id": record.id, "vector": record.vector.tolist(), "metadata": record.metadata}
