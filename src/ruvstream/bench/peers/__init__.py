"""Peer engines for the comparison: pgvector and Chroma next to ruvstream.

Optional: each adapter imports its client packages only when started and
raises ``MissingExtraError`` naming the extra when they are absent.
"""

from ruvstream.bench.peers.base import Engine, MissingExtraError
from ruvstream.bench.peers.chroma import ChromaEngine
from ruvstream.bench.peers.compare import PeerConfig, compare_engines, ratios
from ruvstream.bench.peers.pgvector import PgvectorEngine
from ruvstream.bench.peers.ruvstream_engine import RuvstreamEngine

ENGINES = {"ruvstream": RuvstreamEngine, "pgvector": PgvectorEngine, "chroma": ChromaEngine}

__all__ = [
    "ENGINES",
    "ChromaEngine",
    "Engine",
    "MissingExtraError",
    "PeerConfig",
    "PgvectorEngine",
    "RuvstreamEngine",
    "compare_engines",
    "ratios",
]
