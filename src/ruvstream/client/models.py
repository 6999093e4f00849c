"""Typed results of the client: frozen values built from the node's JSON answers.

Every ``from_json`` takes the decoded answer of one route (see docs/api.md)
and keeps only documented fields, so extra fields a newer node adds are
ignored rather than breaking older clients.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "BulkResult",
    "CollectionInfo",
    "Hit",
    "Match",
    "Query",
    "Record",
    "SearchResult",
    "WriteResult",
]

Metadata = dict[str, Any]


@dataclass(frozen=True, slots=True)
class Hit:
    id: str
    score: float
    metadata: Metadata = field(default_factory=dict)
    vector: list[float] | None = None

    @classmethod
    def from_json(cls, body: Mapping[str, Any]) -> Hit:
        return cls(
            id=str(body["id"]),
            score=float(body["score"]),
            metadata=dict(body.get("metadata") or {}),
            vector=body.get("vector"),
        )


@dataclass(frozen=True, slots=True)
class SearchResult:
    """Hits best first; ``version`` is the collection version the answer reflects."""

    hits: list[Hit]
    version: int | None = None
    cached: bool = False

    @classmethod
    def from_json(cls, body: Mapping[str, Any], version: int | None = None) -> SearchResult:
        hits = [Hit.from_json(h) for h in body.get("hits", [])]
        found = body.get("version", version)
        return cls(hits=hits, version=None if found is None else int(found))

    @property
    def ids(self) -> list[str]:
        return [hit.id for hit in self.hits]

    def __iter__(self) -> Iterator[Hit]:
        return iter(self.hits)

    def __len__(self) -> int:
        return len(self.hits)


@dataclass(frozen=True, slots=True)
class Query:
    """One search of a batch."""

    vector: Sequence[float] | Any
    k: int = 10
    filter: Mapping[str, Any] | None = None
    ef: int | None = None


@dataclass(frozen=True, slots=True)
class Record:
    id: str
    vector: Sequence[float] | Any
    metadata: Metadata = field(default_factory=dict)

    @classmethod
    def from_json(cls, body: Mapping[str, Any]) -> Record:
        return cls(str(body["id"]), list(body["vector"]), dict(body.get("metadata") or {}))


@dataclass(frozen=True, slots=True)
class WriteResult:
    """``count`` records upserted or deleted; ``duplicate`` when the node replayed a keyed write."""

    count: int
    version: int | None
    duplicate: bool = False

    @classmethod
    def from_json(cls, body: Mapping[str, Any]) -> WriteResult:
        count = body.get("upserted", body.get("deleted", body.get("applied", 0)))
        version = body.get("version")
        return cls(
            count=int(count),
            version=None if version is None else int(version),
            duplicate=bool(body.get("duplicate", False)),
        )


@dataclass(frozen=True, slots=True)
class BulkResult:
    upserted: int
    chunks: int
    version: int | None


@dataclass(frozen=True, slots=True)
class CollectionInfo:
    name: str
    dim: int
    metric: str
    count: int
    version: int
    m: int | None = None
    ef_construction: int | None = None
    ef_search: int | None = None
    memory_bytes: int | None = None

    @classmethod
    def from_json(cls, body: Mapping[str, Any]) -> CollectionInfo:
        def optional(key: str) -> int | None:
            value = body.get(key)
            return None if value is None else int(value)

        return cls(
            name=str(body["name"]),
            dim=int(body["dim"]),
            metric=str(body.get("metric", "cosine")),
            count=int(body.get("count", 0)),
            version=int(body.get("version", 0)),
            m=optional("m"),
            ef_construction=optional("ef_construction"),
            ef_search=optional("ef_search"),
            memory_bytes=optional("memory_bytes"),
        )


@dataclass(frozen=True, slots=True)
class Match:
    """A record that entered a standing query's result set."""

    subscription: str
    id: str
    score: float
    metadata: Metadata = field(default_factory=dict)

    @classmethod
    def from_frame(cls, frame: Mapping[str, Any]) -> Match:
        record = frame.get("record") or {}
        return cls(
            subscription=str(frame.get("subscription")),
            id=str(record["id"]),
            score=float(record["score"]),
            metadata=dict(record.get("metadata") or {}),
        )
