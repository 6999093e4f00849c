"""One contract suite for the coordination store: in memory (on a clock) and NATS JetStream KV."""

from __future__ import annotations

import asyncio

import pytest

from ruvstream.control.store import (
    Change,
    CoordinationStore,
    InvalidKeyError,
    KeyExistsError,
    RevisionMismatchError,
)

from .conftest import Backend


async def test_put_get_and_revisions_increase_across_the_bucket(backend: Backend) -> None:
    store = await backend.bucket()
    assert await store.get("a") is None
    r1 = await store.put("a", b"1")
    r2 = await store.put("b", b"2")
    r3 = await store.put("a", b"3")
    assert 0 < r1 < r2 < r3
    entry = await store.get("a")
    assert entry is not None and (entry.value, entry.revision) == (b"3", r3)


async def test_create_only_if_absent(backend: Backend) -> None:
    store = await backend.bucket()
    revision = await store.create("leader", b"me")
    with pytest.raises(KeyExistsError):
        await store.create("leader", b"you")
    entry = await store.get("leader")
    assert entry is not None and (entry.value, entry.revision) == (b"me", revision)


async def test_update_is_compare_and_set_on_the_revision(backend: Backend) -> None:
    store = await backend.bucket()
    first = await store.create("k", b"v1")
    second = await store.update("k", b"v2", first)
    assert second > first
    with pytest.raises(RevisionMismatchError):
        await store.update("k", b"stale", first)
    with pytest.raises(RevisionMismatchError):
        await store.update("absent", b"x", first)
    entry = await store.get("k")
    assert entry is not None and entry.value == b"v2"


async def test_racing_updates_on_one_revision_have_exactly_one_winner(backend: Backend) -> None:
    store = await backend.bucket()
    base = await store.create("k", b"0")

    async def attempt(i: int) -> bool:
        try:
            await store.update("k", str(i).encode(), base)
        except RevisionMismatchError:
            return False
        return True

    results = await asyncio.gather(*(attempt(i) for i in range(8)))
    assert sum(results) == 1
    entry = await store.get("k")
    assert entry is not None and entry.value == str(results.index(True)).encode()


async def test_delete_then_create_again(backend: Backend) -> None:
    store = await backend.bucket()
    revision = await store.create("k", b"v")
    with pytest.raises(RevisionMismatchError):
        await store.delete("k", revision + 100)
    await store.delete("k", revision)
    assert await store.get("k") is None
    await store.delete("k")  # absent: a no-op
    assert await store.create("k", b"again") > revision


async def test_keys_and_entries_list_live_keys(backend: Backend) -> None:
    store = await backend.bucket()
    assert await store.keys() == []
    await store.put("b", b"2")
    await store.put("a", b"1")
    await store.put("c", b"3")
    await store.delete("c")
    assert await store.keys() == ["a", "b"]
    entries = await store.entries()
    assert {k: e.value for k, e in entries.items()} == {"a": b"1", "b": b"2"}


async def test_keys_outside_the_alphabet_are_refused(backend: Backend) -> None:
    store = await backend.bucket()
    for bad in ("", "has space", "star*", ".lead", "trail.", "x" * 256):
        with pytest.raises(InvalidKeyError):
            await store.put(bad, b"v")
    assert await store.put("node-1.us_east=a/b", b"v") > 0


async def test_entries_expire_after_the_bucket_ttl_unless_written_again(backend: Backend) -> None:
    store = await backend.bucket(ttl=1.0)
    assert store.ttl == 1.0
    await store.put("kept", b"v")
    await store.put("lapsed", b"v")
    assert await backend.after(0.6, lambda: _present(store, "kept"))
    await store.put("kept", b"heartbeat")
    assert await backend.after(0.6, lambda: _absent(store, "lapsed"))
    assert await store.get("kept") is not None
    assert await backend.after(1.0, lambda: _absent(store, "kept"))
    assert await store.create("lapsed", b"new owner") > 0


async def _present(store: CoordinationStore, key: str) -> bool:
    return await store.get(key) is not None


async def _absent(store: CoordinationStore, key: str) -> bool:
    return await store.get(key) is None and key not in await store.keys()


async def test_watch_yields_current_entries_then_changes_in_order(backend: Backend) -> None:
    store = await backend.bucket()
    r_a = await store.put("a", b"1")
    seen: list[Change] = []
    async with store.watch() as changes:
        iterator = aiter(changes)
        seen.append(await asyncio.wait_for(anext(iterator), 10))
        r_b = await store.put("b", b"2")
        await store.delete("a")
        r_a2 = await store.create("a", b"3")
        for _ in range(3):
            seen.append(await asyncio.wait_for(anext(iterator), 10))
    assert seen[0] == Change("a", b"1", r_a)
    assert seen[1] == Change("b", b"2", r_b)
    assert seen[2].key == "a" and seen[2].deleted and r_b < seen[2].revision < r_a2
    assert seen[3] == Change("a", b"3", r_a2)


async def test_two_watchers_see_the_same_changes(backend: Backend) -> None:
    store = await backend.bucket()
    async with store.watch() as one, store.watch() as two:
        revision = await store.put("k", b"v")
        first = await asyncio.wait_for(anext(aiter(one)), 10)
        second = await asyncio.wait_for(anext(aiter(two)), 10)
    assert first == second == Change("k", b"v", revision)


async def test_buckets_are_separate_and_drop_removes_one(backend: Backend) -> None:
    one = await backend.bucket()
    two = await backend.bucket()
    await one.put("k", b"1")
    assert await two.get("k") is None
    await backend.store.drop(one.name)
    again = await backend.store.bucket(one.name)
    assert await again.get("k") is None
    await backend.store.drop("never-made-" + one.name)


async def test_find_opens_an_existing_bucket_and_never_creates_one(backend: Backend) -> None:
    made = await backend.bucket(ttl=30.0)
    await made.put("k", b"v")
    found = await backend.store.find(made.name)
    assert found is not None and found.ttl == 30.0
    entry = await found.get("k")
    assert entry is not None and entry.value == b"v"
    absent = "absent-" + made.name
    assert await backend.store.find(absent) is None
    assert await backend.store.find(absent) is None
