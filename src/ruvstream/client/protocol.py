"""The wire protocol of the node, as pure functions shared by every client.

Request bodies, cache keys, error decoding and Server-Sent Events parsing
live here with no I/O, so the async client, the sync client and the WebSocket
session speak exactly the same protocol (docs/api.md).
"""

from __future__ import annotations

import email.utils
import time
from collections.abc import Hashable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import orjson

from ruvstream.errors import (
    RateLimitedError,
    RuvstreamError,
    UnavailableError,
    error_class_for,
    from_payload,
)

from .errors import ConnectError, TransportError
from .models import Query, Record

__all__ = [
    "RecordLike",
    "SseEvent",
    "SseParser",
    "cache_key",
    "decode_error",
    "dumps",
    "is_retryable",
    "parse_retry_after",
    "record_json",
    "search_body",
    "vector_array",
]

RecordLike = Record | Mapping[str, Any] | tuple[Any, ...]


def dumps(body: Any) -> bytes:
    return orjson.dumps(body, option=orjson.OPT_SERIALIZE_NUMPY)


def vector_array(vector: Any) -> np.ndarray:
    """The vector as a contiguous 1-d float32 array (what the node stores)."""
    array = np.ascontiguousarray(np.asarray(vector, dtype=np.float32))
    if array.ndim != 1:
        raise ValueError(f"a vector must be one-dimensional, got shape {array.shape}")
    return array


def search_body(
    vector: Any,
    k: int = 10,
    filter: Mapping[str, Any] | None = None,
    ef: int | None = None,
    include_vectors: bool = False,
) -> dict[str, Any]:
    body: dict[str, Any] = {"vector": vector_array(vector), "k": k}
    if filter:
        body["filter"] = dict(filter)
    if ef is not None:
        body["ef"] = ef
    if include_vectors:
        body["include_vectors"] = True
    return body


def query_body(query: Query | Mapping[str, Any]) -> dict[str, Any]:
    if isinstance(query, Query):
        return search_body(query.vector, query.k, query.filter, query.ef)
    return search_body(query["vector"], query.get("k", 10), query.get("filter"), query.get("ef"))


def cache_key(collection: str, body: Mapping[str, Any]) -> Hashable:
    """The whole query: collection, vector bytes, k, canonical filter and parameters."""
    vector = vector_array(body["vector"]).tobytes()
    rest = {k: v for k, v in body.items() if k != "vector"}
    return (collection, vector, orjson.dumps(rest, option=orjson.OPT_SORT_KEYS))


def record_json(record: RecordLike) -> dict[str, Any]:
    """A record for the wire, from a Record, a mapping or an (id, vector[, metadata]) tuple."""
    metadata: Mapping[str, Any] | None
    if isinstance(record, Record):
        ident, vector, metadata = record.id, record.vector, record.metadata
    elif isinstance(record, tuple):
        ident, vector = record[0], record[1]
        metadata = record[2] if len(record) > 2 else None
    else:
        ident, vector, metadata = record["id"], record["vector"], record.get("metadata")
    body: dict[str, Any] = {"id": str(ident), "vector": vector_array(vector)}
    if metadata:
        body["metadata"] = dict(metadata)
    return body


def parse_retry_after(value: str | None, now: float | None = None) -> float | None:
    """Seconds from a Retry-After header: delta-seconds or an HTTP date."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - (time.time() if now is None else now))


def decode_error(status: int, content: bytes, retry_after_header: str | None) -> RuvstreamError:
    """The error a non-2xx answer describes; the header fills in a missing retry_after."""
    error: RuvstreamError
    try:
        payload = orjson.loads(content)["error"]
        if not isinstance(payload, dict):
            raise TypeError("error is not an object")
        error = from_payload(payload, status)
    except (orjson.JSONDecodeError, KeyError, TypeError):
        cls = error_class_for(None, status)
        text = content[:200].decode("utf-8", "replace") or f"HTTP {status}"
        error = cls(text, status=status)
    if error.retry_after is None:
        error.retry_after = parse_retry_after(retry_after_header)
    return error


def is_retryable(error: BaseException, keyed: bool) -> bool:
    """May this failure be retried? Reads and keyed writes: yes for transient
    failures; an unkeyed write only when the node surely did not apply it."""
    if isinstance(error, ConnectError | RateLimitedError):
        return True
    if not keyed:
        return False
    return isinstance(error, UnavailableError | TransportError) or (
        isinstance(error, RuvstreamError) and error.status == 504
    )


@dataclass(slots=True)
class SseEvent:
    event: str = "message"
    data: str = ""

    def json(self) -> Any:
        return orjson.loads(self.data)


@dataclass(slots=True)
class SseParser:
    """Line-by-line Server-Sent Events parser (comments are heartbeats, skipped)."""

    _event: str = ""
    _data: list[str] = field(default_factory=list)

    def feed_line(self, line: str) -> SseEvent | None:
        line = line.rstrip("\r\n")
        if not line:
            if not self._data and not self._event:
                return None
            done = SseEvent(self._event or "message", "\n".join(self._data))
            self._event, self._data = "", []
            return done
        if line.startswith(":"):
            return None
        name, _, value = line.partition(":")
        value = value.removeprefix(" ")
        if name == "event":
            self._event = value
        elif name == "data":
            self._data.append(value)
        return None

    def feed(self, lines: Iterable[str]) -> list[SseEvent]:
        return [event for line in lines if (event := self.feed_line(line)) is not None]
