"""Pure domain code: records, clocks, filters, specs. No I/O, no event loop."""

from ruvstream.core.clock import Clock, ManualClock, SystemClock
from ruvstream.core.filters import Filter, Predicate, compile_filter
from ruvstream.core.hlc import HybridLogicalClock, Version
from ruvstream.core.records import (
    CollectionSpecData,
    OpKind,
    OpRecord,
    RecordData,
    decode_op,
    encode_op,
    vector_from_bytes,
    vector_to_bytes,
)
from ruvstream.core.spec import MAX_DIM, MAX_K, METRICS, CollectionSpec

__all__ = [
    "MAX_DIM",
    "MAX_K",
    "METRICS",
    "Clock",
    "CollectionSpec",
    "CollectionSpecData",
    "Filter",
    "HybridLogicalClock",
    "ManualClock",
    "OpKind",
    "OpRecord",
    "Predicate",
    "RecordData",
    "SystemClock",
    "Version",
    "compile_filter",
    "decode_op",
    "encode_op",
    "vector_from_bytes",
    "vector_to_bytes",
]
