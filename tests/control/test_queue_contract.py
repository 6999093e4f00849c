"""One contract suite for the work queue: in memory (on a clock) and a JetStream work queue."""

from __future__ import annotations

import asyncio

import pytest

from ruvstream.control.queue import check_queue, queue_token

from .conftest import Queues


async def pull_all(queues: Queues, name: str, want: int, wait: float = 5.0) -> list[bytes]:
    got: list[bytes] = []
    for _ in range(20):
        for job in await queues.queue.pull(name, batch=want, wait=wait):
            got.append(job.data)
            await job.ack()
        if len(got) >= want:
            break
    return got


async def test_put_then_pull_in_order_and_ack_removes(queues: Queues) -> None:
    for i in range(3):
        await queues.queue.put("submitted", f"m{i}".encode())
    assert await pull_all(queues, "submitted", 3) == [b"m0", b"m1", b"m2"]
    assert await queues.queue.pull("submitted", wait=0.2) == []


async def test_a_taken_message_goes_to_one_taker_only(queues: Queues) -> None:
    await queues.queue.put("q", b"only")
    first, second = await asyncio.gather(
        queues.queue.pull("q", wait=0.5), queues.queue.pull("q", wait=0.5)
    )
    assert len(first) + len(second) == 1


async def test_unacked_messages_come_back_after_ack_wait(queues: Queues) -> None:
    await queues.queue.put("q", b"work")
    (job,) = await queues.queue.pull("q", wait=5.0)
    assert job.deliveries == 1
    assert await queues.queue.pull("q", wait=0.1) == []
    await queues.pass_time(2.2)
    again = await queues.queue.pull("q", wait=5.0)
    assert [j.data for j in again] == [b"work"] and again[0].deliveries == 2
    await again[0].ack()


async def test_nak_hands_the_message_out_again_after_the_delay(queues: Queues) -> None:
    await queues.queue.put("q", b"retry me")
    (job,) = await queues.queue.pull("q", wait=5.0)
    await job.nak(0.5)
    await queues.pass_time(0.6)
    again = await queues.queue.pull("q", wait=5.0)
    assert [j.data for j in again] == [b"retry me"]
    await again[0].ack()


async def test_a_message_id_is_stored_once(queues: Queues) -> None:
    await queues.queue.put("q", b"a", msg_id="task-1")
    await queues.queue.put("q", b"a again", msg_id="task-1")
    await queues.queue.put("q", b"b", msg_id="task-2")
    assert await pull_all(queues, "q", 2) == [b"a", b"b"]
    assert await queues.queue.pull("q", wait=0.2) == []


async def test_queues_are_independent_and_purge_drops_one(queues: Queues) -> None:
    await queues.queue.put("agent.a", b"for a")
    await queues.queue.put("agent.b", b"for b")
    await queues.queue.purge("agent.a")
    assert await queues.queue.pull("agent.a", wait=0.2) == []
    assert await pull_all(queues, "agent.b", 1) == [b"for b"]


async def test_dead_letters_are_kept_and_read_without_consuming(queues: Queues) -> None:
    assert await queues.queue.buried() == []
    await queues.queue.bury(b"poison-1")
    await queues.queue.bury(b"poison-2")
    assert await queues.queue.buried() == [b"poison-1", b"poison-2"]
    assert await queues.queue.buried() == [b"poison-1", b"poison-2"]


def test_queue_names_and_tokens() -> None:
    assert check_queue("agent.node-1") == "agent.node-1"
    for bad in ("", "a..b", "a b", "a.>", "*"):
        with pytest.raises(ValueError):
            check_queue(bad)
    assert queue_token("node_1-a") == "node_1-a"
    assert queue_token("host.example") == "x" + b"host.example".hex()
