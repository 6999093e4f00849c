"""The coordination store: KV buckets with compare-and-set, in memory or on NATS JetStream.

``open_backend("memory")`` or ``open_backend("nats://host:4222")`` picks the
implementation; both pass ``tests/control/test_store_contract.py``.
"""

from __future__ import annotations

from ruvstream.core.clock import Clock

from .base import (
    Change,
    CompareAndSetError,
    CoordinationStore,
    Entry,
    InvalidKeyError,
    KeyExistsError,
    RevisionMismatchError,
    StoreBackend,
    check_key,
)
from .memory import MemoryBackend, MemoryStore

__all__ = [
    "Change",
    "CompareAndSetError",
    "CoordinationStore",
    "Entry",
    "InvalidKeyError",
    "KeyExistsError",
    "MemoryBackend",
    "MemoryStore",
    "RevisionMismatchError",
    "StoreBackend",
    "check_key",
    "open_backend",
]


async def open_backend(url: str, *, clock: Clock | None = None) -> StoreBackend:
    """``memory`` for one process (on ``clock``), ``nats://...`` for JetStream KV."""
    if url == "memory":
        return MemoryBackend(clock)
    if url.startswith(("nats://", "tls://")):
        from .jetstream import NatsBackend

        return await NatsBackend.connect(url)
    raise ValueError(f"unknown coordination store {url!r}: use 'memory' or nats://HOST:PORT")
