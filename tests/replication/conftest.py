from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import pytest

from ruvstream.replication import Bus, EmbeddedBus, JetStreamBus

NATS_URL = "nats://127.0.0.1:4222"


def unique_stream(prefix: str = "test") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:12]}"


@pytest.fixture(params=["embedded", pytest.param("nats", marks=pytest.mark.nats)])
async def bus(request: pytest.FixtureRequest) -> AsyncIterator[Bus]:
    stream = unique_stream("contract")
    if request.param == "embedded":
        yield EmbeddedBus(stream)
        return
    nats_bus = await JetStreamBus.connect(NATS_URL, stream, ack_wait=30.0)
    try:
        yield nats_bus
    finally:
        await nats_bus.delete_stream()
        await nats_bus.close()
