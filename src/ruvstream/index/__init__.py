"""Vector indexes: one interface, the faiss HNSW and exact backends, the micro-batcher."""

from ruvstream.index.base import VectorIndex
from ruvstream.index.batcher import MicroBatcher
from ruvstream.index.exact import ExactIndex, exact_search
from ruvstream.index.factory import INDEXES, new_index
from ruvstream.index.hnsw import HnswIndex

__all__ = [
    "INDEXES",
    "ExactIndex",
    "HnswIndex",
    "MicroBatcher",
    "VectorIndex",
    "exact_search",
    "new_index",
]
