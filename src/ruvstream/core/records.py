"""Records and operation records: the unit of every write.

An ``OpRecord`` is what the WAL stores, what replication ships and what the
one apply function consumes. Its wire form is msgpack (msgspec), vectors as
little-endian float32 bytes, so a record costs about ``4 * dim`` bytes plus
its metadata.
"""

from __future__ import annotations

import enum
from typing import Any

import msgspec
import numpy as np
import numpy.typing as npt

__all__ = [
    "CollectionSpecData",
    "OpKind",
    "OpRecord",
    "RecordData",
    "decode_op",
    "encode_op",
    "vector_from_bytes",
    "vector_to_bytes",
]


class OpKind(enum.StrEnum):
    CREATE_COLLECTION = "create_collection"
    DROP_COLLECTION = "drop_collection"
    UPSERT = "upsert"
    DELETE = "delete"


class RecordData(msgspec.Struct, frozen=True, array_like=True):
    id: str
    vector: bytes
    metadata: dict[str, Any] = {}


class CollectionSpecData(msgspec.Struct, frozen=True):
    dim: int
    metric: str
    m: int
    ef_construction: int
    ef_search: int
    index: str = "hnsw"  # absent from ops logged before the index was a choice


class OpRecord(msgspec.Struct, frozen=True, array_like=True):
    """One write: ``(hlc, origin, collection, op, payload)``.

    ``records`` carries upserts, ``ids`` deletes, ``spec`` collection creates.
    ``seq`` is the position in the origin node's log (0 until logged);
    ``key`` is the client's idempotency key, kept so replay rebuilds the
    de-duplication table.
    """

    hlc: int
    origin: str
    collection: str
    op: OpKind
    records: tuple[RecordData, ...] = ()
    ids: tuple[str, ...] = ()
    spec: CollectionSpecData | None = None
    seq: int = 0
    key: str = ""

    @property
    def version(self) -> tuple[int, str]:
        return (self.hlc, self.origin)


_encoder = msgspec.msgpack.Encoder()
_decoder = msgspec.msgpack.Decoder(OpRecord)


def encode_op(op: OpRecord) -> bytes:
    return _encoder.encode(op)


def decode_op(data: bytes) -> OpRecord:
    return _decoder.decode(data)


def vector_to_bytes(vector: npt.NDArray[np.float32]) -> bytes:
    return np.ascontiguousarray(vector, dtype="<f4").tobytes()


def vector_from_bytes(data: bytes) -> npt.NDArray[np.float32]:
    return np.frombuffer(data, dtype="<f4")
