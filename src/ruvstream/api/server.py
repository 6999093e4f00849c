"""Running a node app under uvicorn (``ruvstream.serving``), with a draining SIGTERM.

On SIGTERM or SIGINT the server first drains (readiness goes false, new
requests get 503, SSE streams end, WebSockets finish their in-flight requests
and close with 1001), then lets uvicorn stop: it waits for in-flight HTTP
requests, runs the lifespan shutdown (WAL flush, final snapshot) and exits 0.
A busy port or a node that cannot open its data dir is a ``StartupError``.
"""

from __future__ import annotations

import asyncio
import logging
from types import FrameType

import uvicorn
from starlette.applications import Starlette

from ruvstream import serving
from ruvstream.api.app import create_app
from ruvstream.api.http_mode import http_protocol_for
from ruvstream.api.state import ServingState
from ruvstream.api.ws_protocol import node_ws_protocol
from ruvstream.config import Settings

__all__ = ["DrainingServer", "serve"]

log = logging.getLogger(__name__)


class DrainingServer(serving.Server):
    def __init__(self, config: uvicorn.Config, state: ServingState) -> None:
        super().__init__(config, handle_signals=True)
        self.state = state
        self._draining: asyncio.Task[None] | None = None

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        if self._draining is not None:  # a second signal: stop now
            super().handle_exit(sig, frame)
            return
        log.info("signal %d: draining", sig)
        self._draining = asyncio.get_event_loop().create_task(self._drain_then_exit(sig, frame))

    async def _drain_then_exit(self, sig: int, frame: FrameType | None) -> None:
        try:
            await asyncio.wait_for(
                self.state.drain(), timeout=self.state.settings.server.drain_seconds
            )
        except TimeoutError:
            log.warning("drain took longer than %.1fs", self.state.settings.server.drain_seconds)
        # Not super().handle_exit: uvicorn would re-raise the signal after shutdown
        # and the process would die of it; a drained node exits 0.
        self.should_exit = True


async def serve(settings: Settings, app: Starlette | None = None) -> None:
    app = app or create_app(settings)
    state: ServingState = app.state.serving
    config = uvicorn.Config(
        app,
        log_level="warning",
        access_log=False,
        ws_ping_interval=settings.server.heartbeat_seconds,
        ws_ping_timeout=settings.server.heartbeat_seconds,
        ws_max_size=settings.limits.max_payload_bytes,
        # Result frames are small JSON: compressing each costs both ends more CPU
        # than it saves on loopback or in a datacentre.
        ws_per_message_deflate=False,
        # A node never looks at client addresses, so it skips the proxy-header layer.
        proxy_headers=False,
        http=http_protocol_for(settings.server.http, app),
        ws=node_ws_protocol(state),
        timeout_graceful_shutdown=max(1, round(settings.server.drain_seconds)),
        backlog=4096,
        timeout_keep_alive=30,
    )
    sock = serving.bind(settings.server.host, settings.server.port)
    running = await serving.start(
        DrainingServer(config, state), sock, port_file=settings.server.port_file
    )
    log.info(
        "ruvstream node %s listening on http://%s:%d",
        settings.node.node_id,
        settings.server.host,
        running.port,
    )
    await running.wait()
