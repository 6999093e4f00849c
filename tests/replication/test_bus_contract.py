"""One contract suite, run against the embedded bus and real NATS JetStream."""

from __future__ import annotations

import asyncio

import numpy as np

from ruvstream.core.records import OpKind, OpRecord, RecordData, vector_to_bytes
from ruvstream.replication import Bus, Heartbeat


def upsert(i: int, *, origin: str = "r1", collection: str = "c") -> OpRecord:
    vector = vector_to_bytes(np.full(4, i, dtype=np.float32))
    record = RecordData(f"id-{i}", vector, {"i": i, "tag": "x"})
    return OpRecord(1000 + i, origin, collection, OpKind.UPSERT, records=(record,), seq=i)


async def publish_many(bus: Bus, count: int, node: str = "n1") -> list[int]:
    return [await bus.publish(upsert(i), node=node) for i in range(1, count + 1)]


async def test_publish_assigns_increasing_sequences_and_head(bus: Bus) -> None:
    assert await bus.head() == 0
    seqs = await publish_many(bus, 5)
    assert seqs == sorted(seqs) and len(set(seqs)) == 5
    assert await bus.head() == seqs[-1]


async def test_consumer_receives_every_op_in_order_as_published(bus: Bus) -> None:
    seqs = await publish_many(bus, 5, node="writer")
    consumer = await bus.consumer("reader")
    got = await consumer.fetch(10, wait=2.0)
    assert [d.seq for d in got] == seqs
    assert [d.op for d in got] == [upsert(i) for i in range(1, 6)]
    assert {d.node for d in got} == {"writer"}
    await consumer.close()


async def test_any_collection_or_region_name_travels(bus: Bus) -> None:
    op = upsert(1, origin="eu west.1", collection="a.b>*c d")
    await bus.publish(op, node="n")
    consumer = await bus.consumer("reader")
    got = await consumer.fetch(1, wait=2.0)
    assert [d.op for d in got] == [op]
    await consumer.close()


async def test_durable_consumer_resumes_after_its_acknowledged_floor(bus: Bus) -> None:
    await publish_many(bus, 5)
    consumer = await bus.consumer("durable")
    got = await consumer.fetch(5, wait=2.0)
    for delivery in got[:3]:
        await consumer.ack(delivery)
    await asyncio.sleep(0.2)  # acks are fire-and-forget on NATS
    await consumer.close()
    reopened = await bus.consumer("durable", start_seq=1)
    again = await reopened.fetch(10, wait=2.0)
    assert [d.op.seq for d in again] == [4, 5]
    await reopened.close()


async def test_new_consumer_starts_at_start_seq(bus: Bus) -> None:
    seqs = await publish_many(bus, 5)
    consumer = await bus.consumer("late", start_seq=seqs[2])
    got = await consumer.fetch(10, wait=2.0)
    assert [d.seq for d in got] == seqs[2:]
    await consumer.close()


async def test_consumers_are_independent(bus: Bus) -> None:
    await publish_many(bus, 3)
    first = await bus.consumer("a")
    second = await bus.consumer("b")
    one = await first.fetch(10, wait=2.0)
    two = await second.fetch(10, wait=2.0)
    assert [d.op for d in one] == [d.op for d in two]
    await first.close()
    await second.close()


async def test_fetch_with_nothing_new_answers_empty(bus: Bus) -> None:
    consumer = await bus.consumer("idle")
    assert await consumer.fetch(10, wait=0.3) == []
    await consumer.close()


async def test_waiting_fetch_wakes_on_publish(bus: Bus) -> None:
    consumer = await bus.consumer("waiter")
    fetching = asyncio.create_task(consumer.fetch(10, wait=5.0))
    await asyncio.sleep(0.1)
    await bus.publish(upsert(7), node="n")
    got = await asyncio.wait_for(fetching, 10)
    assert [d.op for d in got] == [upsert(7)]
    await consumer.close()


async def test_heartbeats_reach_subscribers_until_they_unsubscribe(bus: Bus) -> None:
    received: list[Heartbeat] = []
    arrived = asyncio.Event()

    def handler(beat: Heartbeat) -> None:
        received.append(beat)
        arrived.set()

    unsubscribe = await bus.on_heartbeat(handler)
    beat = Heartbeat("eu-west", "n1", 42, 1.5)
    await bus.publish_heartbeat(beat)
    await asyncio.wait_for(arrived.wait(), 5)
    assert received == [beat]
    await unsubscribe()
    await bus.publish_heartbeat(Heartbeat("eu-west", "n1", 43, 2.0))
    await asyncio.sleep(0.2)
    assert received == [beat]


async def test_reset_forgets_the_stored_position(bus: Bus) -> None:
    await publish_many(bus, 3)
    consumer = await bus.consumer("wiped")
    for delivery in await consumer.fetch(3, wait=2.0):
        await consumer.ack(delivery)
    await asyncio.sleep(0.2)
    await consumer.close()
    fresh = await bus.consumer("wiped", reset=True)
    assert [d.op.seq for d in await fresh.fetch(10, wait=2.0)] == [1, 2, 3]
    await fresh.close()
