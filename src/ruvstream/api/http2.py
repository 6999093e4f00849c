"""The node's main port over HTTP/2 (``serve --http2``): hypercorn on the node's loop.

uvicorn speaks HTTP/1.1 only, so ``--http2`` hands the same app to
hypercorn, which answers HTTP/2 with prior knowledge, the ``Upgrade: h2c``
handshake and, with a certificate, HTTP/2 over TLS (ALPN ``h2``, falling
back to ``http/1.1``); HTTP/1.1 and WebSockets keep working on the same
port. The socket is the one ``serving.bind`` reserved, the port file is
written once it listens, and SIGTERM drains as the uvicorn path does:
readiness goes false, streams end, WebSockets close with 1001, then the
server stops and the lifespan flushes the node.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import socket
from pathlib import Path

from hypercorn.asyncio.run import worker_serve
from hypercorn.config import Config, Sockets
from hypercorn.utils import wrap_app
from starlette.applications import Starlette

from ruvstream import serving
from ruvstream.api.state import ServingState

__all__ = ["http2_config", "serve_http2"]

log = logging.getLogger(__name__)
_POLL_SECONDS = 0.01


def http2_config(state: ServingState, *, certfile: Path | None, keyfile: Path | None) -> Config:
    """The node's settings in hypercorn's terms (limits, keep-alive, drain, TLS)."""
    settings = state.settings
    config = Config()
    config.backlog = 4096
    config.keep_alive_timeout = 30
    # hypercorn closes a connection after 1000 requests by default; a node's
    # clients keep theirs for good.
    config.keep_alive_max_requests = 1 << 40
    config.graceful_timeout = max(1.0, settings.server.drain_seconds)
    config.websocket_max_message_size = settings.limits.max_payload_bytes
    config.websocket_ping_interval = settings.server.heartbeat_seconds
    config.include_server_header = False
    config.accesslog = None
    config.errorlog = logging.getLogger("hypercorn.error")
    if certfile is not None:
        config.certfile = str(certfile)
        config.keyfile = None if keyfile is None else str(keyfile)
    return config


async def serve_http2(
    app: Starlette,
    state: ServingState,
    sock: socket.socket,
    *,
    port_file: Path | None = None,
    certfile: Path | None = None,
    keyfile: Path | None = None,
    stop: asyncio.Event | None = None,
) -> None:
    """Serve ``app`` on ``sock``; writes the port file once listening.

    Stops when ``stop`` is set, or, without one, on SIGTERM/SIGINT after draining.
    """
    config = http2_config(state, certfile=certfile, keyfile=keyfile)
    sock.setblocking(False)
    tls = config.ssl_enabled
    sockets = Sockets(
        secure_sockets=[sock] if tls else [],
        insecure_sockets=[] if tls else [sock],
        quic_sockets=[],
    )
    if stop is None:
        stop = asyncio.Event()
        _drain_on_signals(state, stop)
    # hypercorn types an ASGI app more narrowly than Starlette declares itself.
    asgi = wrap_app(app, config.wsgi_max_body_size, "asgi")  # type: ignore[arg-type]
    task = asyncio.get_running_loop().create_task(
        worker_serve(asgi, config, sockets=sockets, shutdown_trigger=stop.wait)
    )
    while not _listening(sock) and not task.done():  # noqa: ASYNC110 - no start-up event to wait on
        await asyncio.sleep(_POLL_SECONDS)
    if task.done():
        error = task.exception() if not task.cancelled() else None
        sock.close()
        raise serving.StartupError(str(error).strip().splitlines()[-1] if error else "stopped")
    port = int(sock.getsockname()[1])
    if port_file is not None:
        serving.write_port_file(port_file, port)
    log.info("HTTP/2 (%s) on port %d", "TLS" if tls else "h2c", port)
    try:
        await task
    finally:
        stop.set()


def _listening(sock: socket.socket) -> bool:
    return bool(sock.getsockopt(socket.SOL_SOCKET, socket.SO_ACCEPTCONN))


def _drain_on_signals(state: ServingState, stop: asyncio.Event) -> None:
    """First SIGTERM/SIGINT drains then stops; a second one stops at once."""
    loop = asyncio.get_running_loop()
    draining: list[asyncio.Task[None]] = []

    async def drain_then_stop() -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(state.drain(), timeout=state.settings.server.drain_seconds)
        stop.set()

    def on_signal(sig: int) -> None:
        if draining:
            stop.set()
            return
        log.info("signal %d: draining", sig)
        draining.append(loop.create_task(drain_then_stop()))

    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, on_signal, sig)
