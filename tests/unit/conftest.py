"""Builders for unit tests: ops and records without a node."""

from __future__ import annotations

from typing import Any

import numpy as np

from ruvstream.core.records import OpKind, OpRecord, RecordData, vector_to_bytes
from ruvstream.core.spec import CollectionSpec

DIM = 4
SPEC = CollectionSpec(dim=DIM, metric="l2", m=8, ef_construction=32, ef_search=32)


def vec(*values: float) -> np.ndarray:
    padded = list(values) + [0.0] * (DIM - len(values))
    return np.array(padded, dtype=np.float32)


def record(record_id: str, value: float, **metadata: Any) -> RecordData:
    return RecordData(record_id, vector_to_bytes(vec(value)), metadata)


def upsert(hlc: int, *records: RecordData, origin: str = "a", collection: str = "c") -> OpRecord:
    return OpRecord(hlc, origin, collection, OpKind.UPSERT, records=records)


def delete(hlc: int, *ids: str, origin: str = "a", collection: str = "c") -> OpRecord:
    return OpRecord(hlc, origin, collection, OpKind.DELETE, ids=ids)


def create(hlc: int, origin: str = "a", collection: str = "c", dim: int = DIM) -> OpRecord:
    spec = CollectionSpec(dim=dim, metric="l2", m=8, ef_construction=32, ef_search=32)
    return OpRecord(hlc, origin, collection, OpKind.CREATE_COLLECTION, spec=spec.to_data())


def drop(hlc: int, origin: str = "a", collection: str = "c") -> OpRecord:
    return OpRecord(hlc, origin, collection, OpKind.DROP_COLLECTION)
