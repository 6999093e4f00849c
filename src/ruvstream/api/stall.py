"""A peer that takes no bytes: the timer both node protocols run while writing is paused.

The transport asks its protocol to pause writing once its buffer passes
the high-water mark, and to resume once it drains. A peer that reads
nothing never lets it drain, and asyncio's ``close`` waits for the buffer
to flush, so such a connection would hold its buffer, its task and its
stream forever. ``StallTimer`` starts on pause, stops on resume, and past
``seconds`` aborts the transport (which frees the buffer and ends the
connection like any disconnect) and counts the cut.
"""

from __future__ import annotations

import asyncio
import logging

from ruvstream.api.state import ServingState

__all__ = ["StallTimer"]

log = logging.getLogger(__name__)


class StallTimer:
    __slots__ = ("_handle", "_state", "_transport_kind")

    def __init__(self, state: ServingState, transport_kind: str) -> None:
        self._state = state
        self._transport_kind = transport_kind
        self._handle: asyncio.TimerHandle | None = None

    def paused(self, loop: asyncio.AbstractEventLoop, transport: asyncio.WriteTransport) -> None:
        if self._handle is None:
            seconds = self._state.settings.limits.send_stall_seconds
            self._handle = loop.call_later(seconds, self._cut, transport)

    def resumed(self) -> None:
        if self._handle is not None:
            self._handle.cancel()
            self._handle = None

    def _cut(self, transport: asyncio.WriteTransport) -> None:
        self._handle = None
        seconds = self._state.settings.limits.send_stall_seconds
        log.info("cutting a %s peer that took no bytes for %.0fs", self._transport_kind, seconds)
        if self._state.node is not None:
            self._state.node.metrics.slow_consumers.labels(self._transport_kind, "stall").inc()
        transport.abort()
