"""Records to write, in the two forms a transport may hand them over.

``parse_records`` takes decoded fields (``{"records": [{"id", "vector",
"metadata"}]}``); ``parse_packed_records`` takes ids and float32
little-endian rows, one row per id, the bulk form. Both check against the
collection's spec and the stated sizes (``config.InputLimits``) and name
the first record at fault.

Metadata is bounded in depth and bytes here, at the write: a record stored
deeper than the JSON encoders nest (orjson stops at 255) could never be
answered again, and every search whose top-k held it would fail.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import orjson

from ruvstream.config import InputLimits
from ruvstream.core.records import RecordData, vector_to_bytes
from ruvstream.core.spec import CollectionSpec
from ruvstream.core.vectors import as_matrix, as_vector
from ruvstream.errors import InvalidParameterError, InvalidVectorError
from ruvstream.service.queries import DEFAULT_LIMITS, Fields, check_count, check_id

__all__ = ["MAX_RECORDS_PER_WRITE", "check_metadata", "parse_packed_records", "parse_records"]

MAX_RECORDS_PER_WRITE = DEFAULT_LIMITS.max_records_per_write


def parse_records(
    body: Fields, spec: CollectionSpec, limits: InputLimits = DEFAULT_LIMITS
) -> list[RecordData]:
    records = check_count(body.get("records"), "records", limits.max_records_per_write)
    ids: list[str] = []
    metadata: list[dict[str, Any]] = []
    for index, record in enumerate(records):
        if not isinstance(record, dict):
            raise InvalidParameterError(f"records[{index}] must be an object", index=index)
        ids.append(check_id(record.get("id"), f"records[{index}].id", limits))
        metadata.append(check_metadata(record.get("metadata"), index, limits))
    vectors = _vectors([r.get("vector") for r in records], spec.dim)
    return [
        RecordData(i, vector_to_bytes(v), m) for i, v, m in zip(ids, vectors, metadata, strict=True)
    ]


def check_metadata(meta: Any, index: int, limits: InputLimits = DEFAULT_LIMITS) -> dict[str, Any]:
    """A record's metadata: a JSON object (absent or null: empty) within the stated
    depth and size."""
    if meta is None:
        return {}
    where = f"records[{index}].metadata"
    if not isinstance(meta, dict):
        raise InvalidParameterError(f"{where} must be a JSON object", index=index)
    depth = limits.max_metadata_depth
    if not _within_depth(meta, depth):
        raise InvalidParameterError(
            f"{where} nests deeper than {depth} levels", field="metadata", index=index, limit=depth
        )
    size = limits.max_metadata_bytes
    if len(orjson.dumps(meta)) > size:
        raise InvalidParameterError(
            f"{where} is over {size} bytes as JSON", field="metadata", index=index, limit=size
        )
    return meta


def _within_depth(value: Any, levels: int) -> bool:
    """Whether ``value`` nests objects and lists at most ``levels`` deep (a scalar: 0)."""
    if isinstance(value, dict):
        children: Any = value.values()
    elif isinstance(value, list):
        children = value
    else:
        return True
    if levels <= 0:
        return False
    return all(_within_depth(child, levels - 1) for child in children)


def _vectors(values: list[Any], dim: int) -> np.ndarray[Any, Any]:
    try:
        return as_matrix(values, dim, "records[].vector")
    except InvalidVectorError:
        # Name the first offending record: it is what the user needs to fix.
        for index, value in enumerate(values):
            as_vector(value, dim, f"records[{index}].vector")
        raise


def parse_packed_records(
    ids: Sequence[str], rows: bytes, spec: CollectionSpec, limits: InputLimits = DEFAULT_LIMITS
) -> list[RecordData]:
    """Float32 little-endian rows, one per id (as the transport split them)."""
    check_count(list(ids), "ids", limits.max_records_per_write)
    ids = [check_id(i, "X-Ids entry", limits) for i in ids]
    row_bytes = 4 * spec.dim
    if len(rows) != row_bytes * len(ids):
        raise InvalidVectorError(
            f"body has {len(rows)} bytes; {len(ids)} ids of dimension {spec.dim} need "
            f"{row_bytes * len(ids)}",
        )
    matrix = as_matrix(np.frombuffer(rows, dtype="<f4").reshape(len(ids), spec.dim), spec.dim)
    return [RecordData(i, vector_to_bytes(v), {}) for i, v in zip(ids, matrix, strict=True)]
