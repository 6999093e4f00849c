"""Records to write, in the two forms a transport may hand them over.

``parse_records`` takes decoded fields (``{"records": [{"id", "vector",
"metadata"}]}``); ``parse_packed_records`` takes ids and float32
little-endian rows, one row per id, the bulk form. Both check against the
collection's spec and name the first record at fault.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from ruvstream.core.records import RecordData, vector_to_bytes
from ruvstream.core.spec import CollectionSpec
from ruvstream.core.vectors import as_matrix, as_vector
from ruvstream.errors import InvalidParameterError, InvalidVectorError
from ruvstream.service.queries import Fields, check_id

__all__ = ["MAX_RECORDS_PER_WRITE", "parse_packed_records", "parse_records"]

MAX_RECORDS_PER_WRITE = 100_000


def parse_records(body: Fields, spec: CollectionSpec) -> list[RecordData]:
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
        ids.append(check_id(record.get("id"), f"records[{index}].id"))
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


def parse_packed_records(ids: Sequence[str], rows: bytes, spec: CollectionSpec) -> list[RecordData]:
    """Float32 little-endian rows, one per id (ids checked by the transport that split them)."""
    row_bytes = 4 * spec.dim
    if len(rows) != row_bytes * len(ids):
        raise InvalidVectorError(
            f"body has {len(rows)} bytes; {len(ids)} ids of dimension {spec.dim} need "
            f"{row_bytes * len(ids)}",
        )
    matrix = as_matrix(np.frombuffer(rows, dtype="<f4").reshape(len(ids), spec.dim), spec.dim)
    return [RecordData(i, vector_to_bytes(v), {}) for i, v in zip(ids, matrix, strict=True)]
