"""Running the router under uvicorn (``ruvstream.serving``) on a host and port.

``serve`` is the process form (``ruvstream router``): uvicorn's signal
handlers stop it, and a busy port is a ``StartupError``. ``running_router``
is the in-process form used by tests: it starts the server on the current
event loop (port 0 picks a free port), leaves process signals to the test
runner, and yields its base URL once it accepts connections.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import uvicorn

from ruvstream import serving, tracing

from .app import RouterApp
from .config import RouterSettings
from .protocol import RouterHttpProtocol

__all__ = ["make_server", "running_router", "serve"]

log = logging.getLogger(__name__)


def _instrumented(app: RouterApp) -> Any:
    """The router app, inside a span per request once tracing is configured."""
    return tracing.TracingMiddleware(app, "router") if tracing.enabled() else app


def make_server(
    settings: RouterSettings, log_level: str = "warning", *, handle_signals: bool = True
) -> serving.Server:
    config = uvicorn.Config(
        _instrumented(RouterApp(settings)),
        lifespan="on",
        log_level=log_level,
        http=RouterHttpProtocol if settings.proxy_mode == "fast" else "auto",
        ws="websockets-sansio",
        ws_ping_interval=20.0,
        timeout_graceful_shutdown=10,
        access_log=False,
        proxy_headers=False,  # the router is the edge: the peer address is the client's
        **serving.tls_options(settings.tls_cert, settings.tls_key),
    )
    return serving.Server(config, handle_signals=handle_signals)


async def serve(
    settings: RouterSettings, host: str, port: int, port_file: Path | None, log_level: str
) -> None:
    """Serve until SIGINT/SIGTERM (uvicorn's handlers drain open requests)."""
    sock = serving.bind(host, port)
    running = await serving.start(make_server(settings, log_level), sock, port_file=port_file)
    scheme = "https" if settings.tls_cert else "http"
    log.info("ruvstream router listening on %s://%s:%d", scheme, host, running.port)
    try:
        await running.wait()
    finally:
        tracing.shutdown()  # flush the spans still batched


@contextlib.asynccontextmanager
async def running_router(settings: RouterSettings, host: str = "127.0.0.1") -> AsyncIterator[str]:
    sock = serving.bind(host, 0)
    running = await serving.start(make_server(settings, handle_signals=False), sock)
    try:
        yield f"{'https' if settings.tls_cert else 'http'}://{host}:{running.port}"
    finally:
        await running.stop()
