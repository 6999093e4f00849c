"""Leader election on a lease with compare-and-set, and the fence that refuses old tokens."""

from __future__ import annotations

import asyncio
import contextlib

import pytest

from ruvstream.control.election import Election, read_leader
from ruvstream.control.fence import Fence, StaleTokenError
from ruvstream.control.store import MemoryStore
from ruvstream.core.clock import ManualClock

from .conftest import NATS_URL, unique, wait_for


def test_fence_admits_newer_and_equal_tokens_and_refuses_older() -> None:
    fence = Fence()
    assert fence.admit(3) and fence.admit(3) and fence.admit(7)
    assert not fence.admit(5)
    with pytest.raises(StaleTokenError) as caught:
        fence.check(6, "scale us-east1")
    assert caught.value.details == {"token": 6, "newest": 7}
    assert caught.value.code == "stale_token" and caught.value.status == 409
    assert fence.newest == 7 and fence.refused == 2


def _pair(lease: float = 3.0) -> tuple[ManualClock, MemoryStore, Election, Election]:
    clock = ManualClock()
    store = MemoryStore("election", ttl=2 * lease, clock=clock)
    return (
        clock,
        store,
        Election(store, "a", lease=lease, clock=clock),
        Election(store, "b", lease=lease, clock=clock),
    )


async def test_the_first_candidate_wins_and_the_token_is_the_winning_revision() -> None:
    _, store, a, b = _pair()
    await a.step()
    await b.step()
    term = a.leadership
    assert term is not None and term.holder == "a" and b.leadership is None
    held = await read_leader(store)
    assert held is not None and (held.holder, held.token) == ("a", term.token)


async def test_a_renewing_leader_keeps_the_lease() -> None:
    clock, _, a, b = _pair()
    await a.step()
    for _ in range(20):
        clock.advance(a.interval)
        await a.step()
        await b.step()
        assert a.leadership is not None and b.leadership is None


async def test_a_dead_leader_is_replaced_after_one_lease_with_a_larger_token() -> None:
    clock, store, a, b = _pair(lease=3.0)
    await a.step()
    old = a.leadership
    assert old is not None
    await b.step()  # b starts watching a's revision
    steps = 0
    while b.leadership is None:
        clock.advance(b.interval)
        await b.step()
        steps += 1
        # a, silent, stops believing it leads before b may take over
        assert a.leadership is None or b.leadership is None
    assert steps * b.interval <= 3.0 + b.interval
    new = b.leadership
    assert new.token > old.token
    held = await read_leader(store)
    assert held is not None and (held.holder, held.token) == ("b", new.token)


async def test_the_leader_stops_believing_before_the_lease_runs_out() -> None:
    clock, _, a, _ = _pair(lease=3.0)
    await a.step()
    clock.advance(3.0 * a.trust - 0.01)
    assert a.leadership is not None
    clock.advance(0.02)
    assert a.leadership is None


async def test_a_deposed_leader_that_wakes_up_steps_down() -> None:
    clock, _, a, b = _pair(lease=3.0)
    await a.step()
    await b.step()
    clock.advance(3.0)
    await b.step()
    assert b.leadership is not None
    await a.step()  # its renewal loses the compare-and-set
    assert a.leadership is None
    clock.advance(a.interval)
    await a.step()
    assert a.leadership is None and b.leadership is not None


async def test_resigning_hands_over_at_once() -> None:
    _, _, a, b = _pair()
    await a.step()
    await a.resign()
    await b.step()
    assert a.leadership is None and b.leadership is not None


@pytest.mark.nats
async def test_over_nats_one_leader_and_a_fast_handover_when_it_dies() -> None:
    from ruvstream.control.store.jetstream import NatsBackend

    backend = await NatsBackend.connect(NATS_URL)
    bucket = unique("election")
    store = await backend.bucket(bucket, ttl=2.0)
    members = [Election(store, f"m{i}", lease=1.0) for i in range(3)]
    tasks = {m.member: asyncio.create_task(m.run()) for m in members}
    every = list(tasks.values())
    try:

        async def one_leader() -> bool:
            return sum(m.leadership is not None for m in members) == 1

        await wait_for(one_leader)
        first = next(m for m in members if m.leadership is not None)
        token = first.leadership.token  # type: ignore[union-attr]
        tasks.pop(first.member).cancel()  # dies without resigning
        rest = [m for m in members if m is not first]

        async def successor() -> bool:
            return sum(m.leadership is not None for m in rest) == 1

        await wait_for(successor)
        new = next(m for m in rest if m.leadership is not None).leadership
        assert new is not None and new.token > token
    finally:
        for task in every:
            task.cancel()
        for task in every:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await backend.drop(bucket)
        await backend.close()
