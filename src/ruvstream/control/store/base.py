"""The coordination store: a key-value bucket with compare-and-set, the control plane's memory.

One bucket is one ``CoordinationStore``. Every write returns the entry's new
*revision*; revisions are positive and strictly increasing across the whole
bucket (not per key), so the revision of a write is also a fencing token: a
later write always carries a larger number.

Invariants every backend keeps (``tests/control/test_store_contract.py``):

* ``create`` writes only if the key is absent (never written, deleted, or
  expired) and raises ``KeyExistsError`` otherwise;
* ``update(key, value, revision)`` writes only if ``revision`` is the key's
  current revision, and raises ``RevisionMismatchError`` otherwise (also when
  the key is absent): of two racing updates on the same revision exactly one
  wins. On NATS JetStream this is the Raft-replicated stream's
  expected-last-subject-sequence check, never a vote of our own;
* with a bucket ``ttl``, an entry not written for ``ttl`` seconds is gone
  (``get`` answers None, ``keys`` omits it). Expiry is judged from the last
  write of that key; a watcher may or may not be told of it (JetStream 2.9
  says nothing), so readers that need liveness judge it from the values;
* ``watch`` yields every current entry first, then every later put and
  delete, each once, in revision order.

Keys are 1-255 characters of ``A-Z a-z 0-9 - _ = / .`` (the NATS KV key
alphabet) and neither start nor end with a dot; values are bytes.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from typing import Protocol

__all__ = [
    "Change",
    "CompareAndSetError",
    "CoordinationStore",
    "Entry",
    "InvalidKeyError",
    "KeyExistsError",
    "RevisionMismatchError",
    "StoreBackend",
    "check_key",
]

_KEY = re.compile(r"^[-/_=.a-zA-Z0-9]{1,255}$")


class CompareAndSetError(Exception):
    """A conditional write lost: the key was not in the state the writer expected."""

    def __init__(self, key: str, message: str) -> None:
        super().__init__(f"{key}: {message}")
        self.key = key


class KeyExistsError(CompareAndSetError):
    """``create`` found the key present."""


class RevisionMismatchError(CompareAndSetError):
    """``update`` (or a conditional ``delete``) found another revision, or no entry."""


class InvalidKeyError(ValueError):
    """A key outside the store's alphabet."""


def check_key(key: str) -> str:
    if not _KEY.match(key) or key.startswith(".") or key.endswith("."):
        raise InvalidKeyError(f"invalid store key {key!r}: use A-Z a-z 0-9 - _ = / .")
    return key


@dataclass(frozen=True, slots=True)
class Entry:
    key: str
    value: bytes
    revision: int


@dataclass(frozen=True, slots=True)
class Change:
    """One step of a watch: a put (``value`` set) or a delete (``value`` is None)."""

    key: str
    value: bytes | None
    revision: int

    @property
    def deleted(self) -> bool:
        return self.value is None


class CoordinationStore(Protocol):
    """One bucket. Methods are coroutines; ``watch`` is an async context manager."""

    @property
    def name(self) -> str: ...

    @property
    def ttl(self) -> float | None: ...

    async def get(self, key: str) -> Entry | None: ...

    async def put(self, key: str, value: bytes) -> int: ...

    async def create(self, key: str, value: bytes) -> int: ...

    async def update(self, key: str, value: bytes, revision: int) -> int: ...

    async def delete(self, key: str, revision: int | None = None) -> None:
        """Remove ``key`` (a no-op when absent); with ``revision``, only if it is current."""

    async def keys(self) -> list[str]: ...

    async def entries(self) -> dict[str, Entry]: ...

    def watch(self) -> AbstractAsyncContextManager[AsyncIterator[Change]]: ...


class StoreBackend(Protocol):
    """Opens buckets (created on first use) and drops them; owns the connection."""

    async def bucket(self, name: str, *, ttl: float | None = None) -> CoordinationStore: ...

    async def find(self, name: str) -> CoordinationStore | None:
        """An existing bucket, or None (never creates one: for readers such as status)."""

    async def drop(self, name: str) -> None:
        """Delete a bucket and everything in it (absent: a no-op)."""

    async def close(self) -> None: ...
