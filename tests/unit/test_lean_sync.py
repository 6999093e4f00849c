"""The lean inbox and event behave as the asyncio queue and event they replace."""

from __future__ import annotations

import asyncio

import pytest

from ruvstream.api.lean_sync import LeanEvent, LeanInbox


async def test_inbox_hands_items_over_in_order_and_holds_nothing_when_empty() -> None:
    inbox: LeanInbox[int] = LeanInbox()
    assert inbox.empty() and inbox.qsize() == 0
    inbox.put_nowait(1)
    inbox.put_nowait(2)
    assert inbox.qsize() == 2
    assert [await inbox.get(), await inbox.get()] == [1, 2]
    assert inbox.empty()
    assert inbox._items is None, "an idle inbox holds no deque"


async def test_a_waiting_get_wakes_on_put_and_survives_a_cancelled_one() -> None:
    inbox: LeanInbox[str] = LeanInbox()
    cancelled = asyncio.create_task(inbox.get())
    await asyncio.sleep(0)
    cancelled.cancel()
    with pytest.raises(asyncio.CancelledError):
        await cancelled
    waiting = asyncio.create_task(inbox.get())
    await asyncio.sleep(0)
    assert not waiting.done()
    inbox.put_nowait("x")
    assert await asyncio.wait_for(waiting, 5) == "x"


async def test_event_waits_until_set_and_clears() -> None:
    event = LeanEvent()
    assert not event.is_set()
    waiter = asyncio.create_task(event.wait())
    await asyncio.sleep(0)
    assert not waiter.done()
    event.set()
    assert await asyncio.wait_for(waiter, 5) is True
    assert await event.wait() is True, "a set event does not block"
    event.clear()
    assert not event.is_set()
    again = asyncio.create_task(event.wait())
    await asyncio.sleep(0)
    assert not again.done()
    event.set()
    await asyncio.wait_for(again, 5)
