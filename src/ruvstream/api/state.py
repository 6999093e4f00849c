"""Per-app serving state: the node plus what admission and draining need."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Protocol

from ruvstream.api.search_paths import SearchPaths
from ruvstream.auth import Guard
from ruvstream.config import Settings
from ruvstream.engine.node import Node
from ruvstream.errors import UnavailableError
from ruvstream.service import NodeService

__all__ = ["Closable", "ServingState"]


class Closable(Protocol):
    """A long-lived session (a WebSocket) that draining closes."""

    @property
    def inflight(self) -> int: ...

    async def close_for_shutdown(self) -> None: ...


@dataclass(eq=False)
class ServingState:
    settings: Settings
    node: Node | None = None
    service: NodeService | None = None
    """The node's use cases, once the node is open: what every transport calls."""
    search_paths: SearchPaths | None = None
    guard: Guard | None = None
    """The API keys every entry checks (``--api-keys``); None: no key is asked for."""
    draining: bool = False
    active: int = 0
    """Requests in progress plus open WebSockets."""
    waiting: int = 0
    """HTTP connections waiting for a request's head, new or idle (``api/http_guard.py``)."""
    sessions: set[Closable] = field(default_factory=set)
    stop_streams: asyncio.Event = field(default_factory=asyncio.Event)

    @property
    def connections(self) -> int:
        """What the connection limit counts: work in progress and connections waiting."""
        return self.active + self.waiting

    @property
    def ready(self) -> bool:
        return (
            self.node is not None
            and not self.draining
            and self.connections < self.settings.limits.max_connections
        )

    def require_node(self) -> Node:
        if self.node is None:
            raise UnavailableError("the node is still loading", retry_after=1.0)
        return self.node

    def require_service(self) -> NodeService:
        if self.service is None:
            raise UnavailableError("the node is still loading", retry_after=1.0)
        return self.service

    async def drain(self) -> None:
        """Refuse new work, end streams, close WebSockets with 1001."""
        self.draining = True
        self.stop_streams.set()
        await asyncio.gather(
            *(s.close_for_shutdown() for s in list(self.sessions)), return_exceptions=True
        )
