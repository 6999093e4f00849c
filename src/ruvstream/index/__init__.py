"""Vector indexes: the faiss HNSW backend, exact search, the micro-batcher."""

from ruvstream.index.base import VectorIndex
from ruvstream.index.batcher import MicroBatcher
from ruvstream.index.exact import exact_search
from ruvstream.index.hnsw import HnswIndex

__all__ = ["HnswIndex", "MicroBatcher", "VectorIndex", "exact_search"]
