"""The one way ruvstream runs uvicorn: the node, the router and the dev cluster alike.

``bind`` reserves the address first, so a busy port is reported before the
app loads anything (a node would otherwise replay its WAL, then fail).
``start`` serves on that socket on the running event loop and returns once
the server accepts connections, with the bound port written to the port
file; when the server cannot start it raises ``StartupError``, whose message
is the one line to show. uvicorn's own start-up log (a traceback, then
"Application startup failed") is held back meanwhile and kept only at DEBUG.

Signals: ``Server(config, handle_signals=True)`` is for a process that owns
its signals (``ruvstream serve``, ``ruvstream router``): uvicorn's handlers
stop it on SIGINT/SIGTERM, or the subclass's own (the node drains first).
``handle_signals=False`` is for servers inside a larger program (the dev
cluster, routers started by tests), whose owner decides when they stop.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import logging
import os
import socket
from collections.abc import AsyncIterator, Generator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import uvicorn
from starlette.applications import Starlette

__all__ = [
    "RunningServer",
    "Server",
    "StartupError",
    "bind",
    "is_loopback",
    "start",
    "tls_options",
    "write_port_file",
]

log = logging.getLogger(__name__)

_UVICORN_LOG = logging.getLogger("uvicorn.error")
_POLL_SECONDS = 0.01


class StartupError(Exception):
    """A server that could not start; ``str()`` is one line for the operator."""


class Server(uvicorn.Server):
    """uvicorn's server, with the signal policy chosen when it is made."""

    def __init__(self, config: uvicorn.Config, *, handle_signals: bool = True) -> None:
        super().__init__(config)
        self.handle_signals = handle_signals

    @contextlib.contextmanager
    def capture_signals(self) -> Generator[None, None, None]:
        if not self.handle_signals:
            yield
            return
        with super().capture_signals():
            yield


def bind(host: str, port: int) -> socket.socket:
    """A TCP socket bound to ``host:port`` (0 picks a free port), not yet listening.

    Not listening, so connections are refused, not queued, until the app has
    started. SO_REUSEADDR lets a restarted process take its old port back
    while connections of the previous one are in TIME_WAIT. The protocol is
    named: asyncio sets TCP_NODELAY only on sockets whose ``proto`` says TCP,
    and accepted sockets inherit it (without it every small answer waits
    for a delayed ACK, about 40 ms on Linux).
    """
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        reason = (exc.strerror or str(exc)).lower()
        raise StartupError(f"cannot listen on {host}:{port}: {reason}") from None
    return sock


def is_loopback(host: str) -> bool:
    """Only this machine can reach ``host`` (127.0.0.0/8, ::1, localhost)."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False  # a host name: it may resolve anywhere


def tls_options(cert: Path | None, key: Path | None) -> dict[str, Any]:
    """uvicorn's ``ssl_*`` options for a PEM certificate and key (none given: plain HTTP)."""
    if cert is None or key is None:
        return {}
    for path in (cert, key):
        if not path.is_file():
            raise StartupError(f"no TLS file at {path}")
    return {"ssl_certfile": str(cert), "ssl_keyfile": str(key)}


def write_port_file(path: Path, port: int) -> None:
    """Write ``port`` so that a reader never sees a partial file (rename is atomic)."""
    staging = path.with_name(path.name + ".tmp")
    staging.write_text(str(port))
    os.replace(staging, path)


@dataclass
class RunningServer:
    server: uvicorn.Server
    task: asyncio.Task[None]
    port: int

    async def wait(self) -> None:
        """Until the server has stopped (by a signal, or ``should_exit``)."""
        await self.task

    async def stop(self) -> None:
        """Stop as uvicorn does on a signal: finish open requests, run the lifespan shutdown."""
        self.server.should_exit = True
        with contextlib.suppress(asyncio.CancelledError):
            await self.task


async def start(
    server: uvicorn.Server, sock: socket.socket, *, port_file: Path | None = None
) -> RunningServer:
    """Serve on ``sock``; returns once listening, else raises ``StartupError``."""
    held = _HeldLog()
    watch = _StartupWatch(server.config.app)
    _UVICORN_LOG.addFilter(held)
    task = asyncio.get_running_loop().create_task(_serve(server, sock))
    try:
        while not server.started and not task.done():  # noqa: ASYNC110 - uvicorn has a flag, not an event
            await asyncio.sleep(_POLL_SECONDS)
    finally:
        _UVICORN_LOG.removeFilter(held)
    if not server.started:
        stopped = _task_error(task)  # read even when unused: asyncio warns of unread errors
        error = watch.error or held.error() or stopped
        log.debug("start-up failed", exc_info=error)
        sock.close()
        raise StartupError(_one_line(error)) from error
    held.replay()
    port = int(sock.getsockname()[1])
    if port_file is not None:
        write_port_file(port_file, port)
    return RunningServer(server, task, port)


class _Stopped(Exception):
    """uvicorn ended start-up with ``sys.exit``; the reason is in its log."""


async def _serve(server: uvicorn.Server, sock: socket.socket) -> None:
    try:
        await server.serve([sock])
    except SystemExit as exc:
        # A SystemExit escaping a task stops the whole event loop; as an
        # ordinary exception it reaches ``start``, which reports it once.
        raise _Stopped(f"the server stopped during start-up (exit {exc.code})") from None


def _task_error(task: asyncio.Task[None]) -> BaseException:
    error = None if task.cancelled() else task.exception()
    return error or _Stopped("the server stopped during start-up")


def _one_line(error: BaseException) -> str:
    text = str(error).strip().splitlines()
    return text[-1] if text else type(error).__name__


class _HeldLog(logging.Filter):
    """Keeps uvicorn's records while a server starts: shown after a success, dropped on failure."""

    def __init__(self) -> None:
        super().__init__()
        self.records: list[logging.LogRecord] = []

    def filter(self, record: logging.LogRecord) -> bool:
        self.records.append(record)
        return False

    def error(self) -> BaseException | None:
        """The exception uvicorn logged, if it logged one (a pure ASGI app's lifespan)."""
        for record in self.records:
            if record.exc_info and record.exc_info[1] is not None:
                return record.exc_info[1]
        return None

    def replay(self) -> None:
        for record in self.records:
            _UVICORN_LOG.handle(record)


class _StartupWatch:
    """The exception a Starlette app's start-up raised.

    Starlette hands uvicorn only the traceback text of a failed lifespan, so
    the lifespan itself is wrapped (requests do not pass through the wrapper).
    """

    def __init__(self, app: Any) -> None:
        self.error: BaseException | None = None
        if isinstance(app, Starlette):
            app.router.lifespan_context = self._watched(app.router.lifespan_context)

    def _watched(self, inner: Any) -> Any:
        @contextlib.asynccontextmanager
        async def lifespan(app: Any) -> AsyncIterator[Any]:
            started = False
            try:
                async with inner(app) as state:
                    started = True
                    yield state
            except Exception as exc:
                if not started:
                    self.error = exc
                raise

        return lifespan
