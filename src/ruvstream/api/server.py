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
from typing import TYPE_CHECKING

import uvicorn
from starlette.applications import Starlette

from ruvstream import serving, tracing
from ruvstream.api.app import create_app
from ruvstream.api.http2 import serve_http2
from ruvstream.api.http_mode import http_protocol_for
from ruvstream.api.state import ServingState
from ruvstream.api.ws_protocol import node_ws_protocol
from ruvstream.auth import KeyFileError
from ruvstream.config import Settings

if TYPE_CHECKING:
    from ruvstream.api.grpc import GrpcServer

__all__ = ["DrainingServer", "refuse_open_listener", "serve"]

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


def refuse_open_listener(settings: Settings) -> None:
    """A node reachable from the network answers only to keys, unless told otherwise."""
    auth, host = settings.auth, settings.server.host
    if auth.api_keys is None and not auth.insecure and not serving.is_loopback(host):
        raise serving.StartupError(
            f"refusing to listen on {host} without --api-keys "
            "(anyone who reaches the port could read and drop everything); "
            "give --api-keys FILE, or --insecure to accept that"
        )


async def serve(settings: Settings, app: Starlette | None = None) -> None:
    refuse_open_listener(settings)
    try:
        app = app or create_app(settings)
    except KeyFileError as exc:
        raise serving.StartupError(str(exc)) from None
    state: ServingState = app.state.serving
    if settings.tracing.otlp_endpoint is not None:
        tracing.configure("ruvstream-node", otlp_endpoint=settings.tracing.otlp_endpoint)
    if tracing.enabled():
        app.add_middleware(tracing.TracingMiddleware, component="node")
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
        # Unused with --http2 (hypercorn serves), so --http is not looked at then.
        http="auto" if settings.server.http2 else http_protocol_for(settings.server.http, app),
        ws=node_ws_protocol(state, fast=settings.server.http != "standard"),
        timeout_graceful_shutdown=max(1, round(settings.server.drain_seconds)),
        backlog=4096,
        timeout_keep_alive=30,
        **serving.tls_options(settings.auth.tls_cert, settings.auth.tls_key),
    )
    sock = serving.bind(settings.server.host, settings.server.port)
    try:
        grpc_server = await _start_grpc(state)
    except BaseException:
        sock.close()
        raise
    try:
        if grpc_server is not None:
            grpc_server.follow(state)
        if settings.server.http2:
            await serve_http2(
                app,
                state,
                sock,
                port_file=settings.server.port_file,
                certfile=settings.auth.tls_cert,
                keyfile=settings.auth.tls_key,
            )
            return
        running = await serving.start(
            DrainingServer(config, state), sock, port_file=settings.server.port_file
        )
        log.info(
            "ruvstream node %s listening on %s://%s:%d",
            settings.node.node_id,
            "https" if settings.auth.tls_cert else "http",
            settings.server.host,
            running.port,
        )
        await running.wait()
    finally:
        if grpc_server is not None:
            await grpc_server.stop(grace=1.0)
        tracing.shutdown()  # flush the spans still batched


async def _start_grpc(state: ServingState) -> GrpcServer | None:
    """gRPC beside uvicorn when ``--grpc-port`` is given: bound before the node loads."""
    server = state.settings.server
    if server.grpc_port is None:
        return None
    from ruvstream.api.grpc import start_grpc

    auth = state.settings.auth
    grpc_server = await start_grpc(
        state,
        server.host,
        server.grpc_port,
        certfile=auth.tls_cert,
        keyfile=auth.tls_key,
    )
    if server.grpc_port_file is not None:
        serving.write_port_file(server.grpc_port_file, grpc_server.port)
    log.info("gRPC listening on %s:%d", server.host, grpc_server.port)
    return grpc_server
