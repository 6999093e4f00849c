"""Choosing a bus by its config string, and the node lifespan's entry point."""

from __future__ import annotations

from ruvstream.config import ReplicationSettings
from ruvstream.replication._bus import Bus
from ruvstream.replication.embedded import EmbeddedBus
from ruvstream.replication.replicator import NodeT, Replicator

__all__ = ["BUSES", "open_bus", "start_replication"]

BUSES = ("embedded", "nats")


async def open_bus(settings: ReplicationSettings) -> Bus:
    """``embedded``: the process-wide in-memory log named ``settings.stream``;
    ``nats``: the JetStream stream of that name at ``settings.nats_url``."""
    if settings.bus == "embedded":
        return EmbeddedBus.shared(settings.stream)
    if settings.bus == "nats":
        from ruvstream.replication.jetstream import JetStreamBus

        return await JetStreamBus.connect(settings.nats_url, settings.stream)
    raise ValueError(f"unknown replication bus {settings.bus!r}; choose one of {BUSES}")


async def start_replication(node: NodeT, settings: ReplicationSettings) -> Replicator[NodeT]:
    """Connect the node to its bus; the caller awaits ``close()`` on shutdown."""
    bus = await open_bus(settings)
    replicator = Replicator(
        node,
        bus,
        lag_bound=settings.lag_bound_seconds,
        heartbeat_interval=min(0.5, settings.lag_bound_seconds / 5),
        owns_bus=settings.bus != "embedded",
    )
    try:
        await replicator.start()
    except BaseException:
        await bus.close()
        raise
    return replicator
