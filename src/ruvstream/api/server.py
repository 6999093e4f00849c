"""Running a node app under uvicorn, with a port file and a draining SIGTERM.

On SIGTERM or SIGINT the server first drains (readiness goes false, new
requests get 503, SSE streams end, WebSockets finish their in-flight requests
and close with 1001), then lets uvicorn stop: it waits for in-flight HTTP
requests, runs the lifespan shutdown (WAL flush, final snapshot) and exits 0.
"""

from __future__ import annotations

import asyncio
import logging
import os
from pathlib import Path
from types import FrameType

import uvicorn
from starlette.applications import Starlette

from ruvstream.api.app import create_app
from ruvstream.api.http_mode import http_protocol_for
from ruvstream.api.state import ServingState
from ruvstream.config import Settings

__all__ = ["DrainingServer", "serve"]

log = logging.getLogger(__name__)


class DrainingServer(uvicorn.Server):
    def __init__(self, config: uvicorn.Config, state: ServingState) -> None:
        super().__init__(config)
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

    def bound_port(self) -> int:
        for server in self.servers:
            for sock in server.sockets:
                port: int = sock.getsockname()[1]
                return port
        raise RuntimeError("the server is not listening")


def _write_port_file(path: Path, port: int) -> None:
    staging = path.with_suffix(path.suffix + ".tmp")
    staging.write_text(str(port))
    os.replace(staging, path)


async def serve(settings: Settings, app: Starlette | None = None) -> None:
    app = app or create_app(settings)
    state: ServingState = app.state.serving
    config = uvicorn.Config(
        app,
        host=settings.server.host,
        port=settings.server.port,
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
        timeout_graceful_shutdown=max(1, round(settings.server.drain_seconds)),
        backlog=4096,
        timeout_keep_alive=30,
    )
    server = DrainingServer(config, state)
    task = asyncio.create_task(server.serve())
    while not server.started and not task.done():  # noqa: ASYNC110 - uvicorn exposes a flag, not an event
        await asyncio.sleep(0.02)
    if server.started:
        port = server.bound_port()
        log.warning(
            "ruvstream node %s listening on http://%s:%d",
            settings.node.node_id,
            settings.server.host,
            port,
        )
        if settings.server.port_file is not None:
            _write_port_file(settings.server.port_file, port)
    await task
