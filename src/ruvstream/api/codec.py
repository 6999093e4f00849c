"""Request bodies to domain objects: every check of untrusted input lives here."""

from __future__ import annotations

from typing import Any

import numpy as np
import orjson

from ruvstream.core.filters import compile_filter
from ruvstream.core.records import RecordData, vector_to_bytes
from ruvstream.core.spec import MAX_K, CollectionSpec
from ruvstream.core.vectors import as_matrix, as_vector
from ruvstream.engine.collection import Hit, SearchRequest
from ruvstream.errors import (
    InvalidJsonError,
    InvalidParameterError,
    InvalidVectorError,
)

__all__ = [
    "MAX_ID_LENGTH",
    "MAX_RECORDS_PER_WRITE",
    "hit_json",
    "parse_ids",
    "parse_json",
    "parse_raw_records",
    "parse_records",
    "parse_search",
    "parse_subscription",
]

MAX_ID_LENGTH = 512
MAX_RECORDS_PER_WRITE = 100_000


def parse_json(raw: bytes | str) -> dict[str, Any]:
    try:
        body = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise InvalidJsonError(f"malformed JSON: {exc}") from None
    if not isinstance(body, dict):
        raise InvalidJsonError("the body must be a JSON object")
    return body


def _int(body: dict[str, Any], key: str, default: int | None, low: int, high: int) -> int | None:
    value = body.get(key, default)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise InvalidParameterError(
            f"{key} must be an integer in [{low}, {high}]", field=key, value=value
        )
    return int(value)


def parse_search(body: dict[str, Any], spec: CollectionSpec) -> SearchRequest:
    k = _int(body, "k", 10, 1, MAX_K)
    assert k is not None
    expression = body.get("filter")
    predicate = compile_filter(expression)
    return SearchRequest(
        vector=as_vector(body.get("vector"), spec.dim),
        k=k,
        ef=_int(body, "ef", None, 1, 4096),
        predicate=predicate,
        filter_key=None
        if predicate is None
        else orjson.dumps(expression, option=orjson.OPT_SORT_KEYS).decode(),
    )


def parse_subscription(
    body: dict[str, Any], spec: CollectionSpec
) -> tuple[SearchRequest, float | None]:
    """A standing query: ``k`` or ``min_score`` (one of them), vector, filter."""
    min_score = body.get("min_score")
    if min_score is not None and (
        isinstance(min_score, bool)
        or not isinstance(min_score, int | float)
        or not np.isfinite(min_score)
    ):
        raise InvalidParameterError("min_score must be a finite number", field="min_score")
    if min_score is not None and "k" in body:
        raise InvalidParameterError("give k or min_score, not both", field="k")
    request = parse_search({**body, "k": body.get("k", 10)}, spec)
    return request, None if min_score is None else float(min_score)


def _check_id(value: Any, where: str) -> str:
    if not isinstance(value, str) or not value or len(value) > MAX_ID_LENGTH:
        raise InvalidParameterError(
            f"{where} must be a non-empty string of at most {MAX_ID_LENGTH} characters",
            field="id",
        )
    return value


def parse_records(body: dict[str, Any], spec: CollectionSpec) -> list[RecordData]:
    records = body.get("records")
    if not isinstance(records, list) or not records:
        raise InvalidParameterError("records must be a non-empty list", field="records")
    if len(records) > MAX_RECORDS_PER_WRITE:
        raise InvalidParameterError(
            f"at most {MAX_RECORDS_PER_WRITE} records per write", field="records"
        )
    ids: list[str] = []
    metadata: list[dict[str, Any]] = []
    for index, record in enumerate(records):
        if not isinstance(record, dict):
            raise InvalidParameterError(f"records[{index}] must be an object", index=index)
        ids.append(_check_id(record.get("id"), f"records[{index}].id"))
        meta = record.get("metadata", {})
        if meta is None:
            meta = {}
        if not isinstance(meta, dict):
            raise InvalidParameterError(
                f"records[{index}].metadata must be a JSON object", index=index
            )
        metadata.append(meta)
    vectors = _vectors([r.get("vector") for r in records], spec.dim)
    return [
        RecordData(i, vector_to_bytes(v), m) for i, v, m in zip(ids, vectors, metadata, strict=True)
    ]


def _vectors(values: list[Any], dim: int) -> np.ndarray[Any, Any]:
    try:
        return as_matrix(values, dim, "records[].vector")
    except InvalidVectorError:
        # Name the first offending record: it is what the user needs to fix.
        for index, value in enumerate(values):
            as_vector(value, dim, f"records[{index}].vector")
        raise


def parse_raw_records(raw: bytes, ids_header: str | None, spec: CollectionSpec) -> list[RecordData]:
    """The binary bulk form: float32 little-endian rows, ids in ``X-Ids``."""
    if not ids_header:
        raise InvalidParameterError("binary upserts need the X-Ids header", field="X-Ids")
    ids = [_check_id(i.strip(), "X-Ids entry") for i in ids_header.split(",")]
    row_bytes = 4 * spec.dim
    if len(raw) != row_bytes * len(ids):
        raise InvalidVectorError(
            f"body has {len(raw)} bytes; {len(ids)} ids of dimension {spec.dim} need "
            f"{row_bytes * len(ids)}",
        )
    matrix = as_matrix(np.frombuffer(raw, dtype="<f4").reshape(len(ids), spec.dim), spec.dim)
    return [RecordData(i, vector_to_bytes(v), {}) for i, v in zip(ids, matrix, strict=True)]


def parse_ids(body: dict[str, Any]) -> list[str]:
    ids = body.get("ids")
    if not isinstance(ids, list) or not ids:
        raise InvalidParameterError("ids must be a non-empty list", field="ids")
    return [_check_id(i, "ids[]") for i in ids]


def hit_json(hit: Hit) -> dict[str, Any]:
    return {"id": hit.id, "score": hit.score, "metadata": hit.metadata}


def search_answer(hits: list[Hit], version: int) -> dict[str, Any]:
    """A search's answer body, the same over HTTP and (with id and type) WebSocket."""
    return {"hits": [hit_json(h) for h in hits], "version": version}
