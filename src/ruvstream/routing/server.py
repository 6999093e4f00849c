"""Running the router: uvicorn on a host/port, the bound port written to a file.

``running_router`` is the in-process form used by tests and the benchmark: it
starts the server on the current event loop (port 0 picks a free port) and
yields its base URL once it accepts connections.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import AsyncIterator
from pathlib import Path

import uvicorn

from .app import RouterApp
from .config import RouterSettings

__all__ = ["make_server", "running_router", "serve"]


def make_server(
    settings: RouterSettings, host: str, port: int, log_level: str = "warning"
) -> uvicorn.Server:
    config = uvicorn.Config(
        RouterApp(settings),
        host=host,
        port=port,
        lifespan="on",
        log_level=log_level,
        ws="websockets-sansio",
        ws_ping_interval=20.0,
        timeout_graceful_shutdown=10,
        access_log=False,
        proxy_headers=False,  # the router is the edge: the peer address is the client's
    )
    return uvicorn.Server(config)


def _bound_port(server: uvicorn.Server) -> int:
    for listener in server.servers:
        for sock in listener.sockets:
            name = sock.getsockname()
            if sock.family in (socket.AF_INET, socket.AF_INET6):
                return int(name[1])
    raise RuntimeError("the router is not listening")


async def _started(server: uvicorn.Server, task: asyncio.Task[None]) -> int:
    while not server.started:
        if task.done():
            task.result()
            raise RuntimeError("the router stopped during start-up")
        await asyncio.sleep(0.01)
    return _bound_port(server)


async def serve(
    settings: RouterSettings, host: str, port: int, port_file: Path | None, log_level: str
) -> None:
    """Serve until SIGINT/SIGTERM (uvicorn's handlers drain open requests)."""
    server = make_server(settings, host, port, log_level)
    task = asyncio.ensure_future(server.serve())
    bound = await _started(server, task)
    if port_file is not None:
        tmp = port_file.with_suffix(".tmp")
        tmp.write_text(str(bound))
        tmp.replace(port_file)
    await task


@contextlib.asynccontextmanager
async def running_router(settings: RouterSettings, host: str = "127.0.0.1") -> AsyncIterator[str]:
    server = make_server(settings, host, 0)
    # ``_serve`` skips uvicorn's signal capture: several routers may run in one
    # test process, and process signals belong to the test runner.
    task = asyncio.ensure_future(server._serve())
    try:
        port = await _started(server, task)
        yield f"http://{host}:{port}"
    finally:
        server.should_exit = True
        await task
