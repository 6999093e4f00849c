"""The coordination store on NATS JetStream key-value buckets (Raft-replicated).

A bucket is the stream ``KV_<name>``; a bucket TTL is the stream's
``max_age`` (JetStream 2.9 has no per-message TTL, so leases live in values
and are judged by readers). Compare-and-set is the server's
expected-last-subject-sequence check, so a lost race is decided by the
stream's Raft group, not by this process. Revisions are stream sequences.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from typing import Any

import nats
import nats.errors
import nats.js.errors
from nats.aio.client import Client
from nats.js.kv import KeyValue

from .base import (
    Change,
    CoordinationStore,
    Entry,
    KeyExistsError,
    RevisionMismatchError,
    check_key,
)

__all__ = ["NatsBackend", "NatsStore", "connect_nats"]

_WRONG_LAST_SEQUENCE = (10071, 10164)
_DELETED = ("DEL", "PURGE")


async def connect_nats(url: str, *, name: str = "ruvstream-control") -> Client:
    """A client that keeps reconnecting (a restarted server is picked up again)."""
    client: Client = await nats.connect(
        url, name=name, connect_timeout=5, max_reconnect_attempts=-1, reconnect_time_wait=0.5
    )
    return client


class NatsStore:
    def __init__(self, kv: KeyValue, name: str, ttl: float | None) -> None:
        self._kv = kv
        self._name = name
        self._ttl = ttl

    @property
    def name(self) -> str:
        return self._name

    @property
    def ttl(self) -> float | None:
        return self._ttl

    async def get(self, key: str) -> Entry | None:
        check_key(key)
        try:
            found = await self._kv.get(key)
        except nats.js.errors.KeyNotFoundError:
            return None
        return Entry(key, found.value or b"", found.revision or 0)

    async def put(self, key: str, value: bytes) -> int:
        revision: int = await self._kv.put(check_key(key), value)
        return revision

    async def create(self, key: str, value: bytes) -> int:
        try:
            revision: int = await self._kv.create(check_key(key), value)
        except nats.js.errors.KeyWrongLastSequenceError as exc:
            raise KeyExistsError(key, "already present") from exc
        return revision

    async def update(self, key: str, value: bytes, revision: int) -> int:
        try:
            new: int = await self._kv.update(check_key(key), value, last=revision)
        except nats.js.errors.KeyWrongLastSequenceError as exc:
            raise RevisionMismatchError(key, f"expected revision {revision}") from exc
        return new

    async def delete(self, key: str, revision: int | None = None) -> None:
        current = await self.get(key)
        if revision is None and current is None:
            return
        if revision is not None and (current is None or current.revision != revision):
            raise RevisionMismatchError(key, f"expected revision {revision}")
        try:
            await self._kv.delete(key, last=revision)
        except nats.js.errors.APIError as exc:
            if exc.err_code in _WRONG_LAST_SEQUENCE:
                raise RevisionMismatchError(key, f"expected revision {revision}") from exc
            raise

    async def keys(self) -> list[str]:
        return sorted(await self.entries())

    async def entries(self) -> dict[str, Entry]:
        watcher: Any = await self._kv.watchall()
        found: dict[str, Entry] = {}
        try:
            async for item in watcher:
                if item is None:
                    break
                if item.operation in _DELETED:
                    found.pop(item.key, None)
                else:
                    found[item.key] = Entry(item.key, item.value or b"", item.revision or 0)
        finally:
            await watcher.stop()
        return dict(sorted(found.items()))

    @contextlib.asynccontextmanager
    async def watch(self) -> AsyncIterator[AsyncIterator[Change]]:
        watcher: Any = await self._kv.watchall()
        try:
            yield _Changes(watcher)
        finally:
            await watcher.stop()


class _Changes:
    def __init__(self, watcher: Any) -> None:
        self._watcher = watcher

    def __aiter__(self) -> _Changes:
        return self

    async def __anext__(self) -> Change:
        while True:
            item = await self._watcher.__anext__()
            if item is None:  # the end of the initial values: nothing to report
                continue
            deleted = item.operation in _DELETED
            return Change(item.key, None if deleted else (item.value or b""), item.revision or 0)


class NatsBackend:
    """Buckets on one NATS connection; ``close`` closes the connection if this opened it."""

    def __init__(self, client: Client, *, owns_client: bool = False, replicas: int = 1) -> None:
        self.client = client
        self._js = client.jetstream()
        self._owns_client = owns_client
        self.replicas = replicas
        """Raft replicas of buckets this backend creates (3 or 5 on a JetStream cluster)."""

    @classmethod
    async def connect(cls, url: str, *, replicas: int = 1) -> NatsBackend:
        return cls(await connect_nats(url), owns_client=True, replicas=replicas)

    async def bucket(self, name: str, *, ttl: float | None = None) -> CoordinationStore:
        try:
            kv = await self._js.key_value(name)
        except nats.js.errors.BucketNotFoundError:
            kv = await self._js.create_key_value(
                bucket=name, ttl=ttl, history=1, replicas=self.replicas
            )
        return NatsStore(kv, name, ttl)

    async def find(self, name: str) -> CoordinationStore | None:
        try:
            kv = await self._js.key_value(name)
        except nats.js.errors.BucketNotFoundError:
            return None
        status = await kv.status()
        return NatsStore(kv, name, status.ttl or None)

    async def drop(self, name: str) -> None:
        with contextlib.suppress(nats.js.errors.NotFoundError, nats.js.errors.BucketNotFoundError):
            await self._js.delete_key_value(name)

    async def close(self) -> None:
        if self._owns_client and not self.client.is_closed:
            await self.client.drain()
