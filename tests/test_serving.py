"""The uvicorn runner every server uses: start, port file, start-up failures, signals, sockets.

Real uvicorn servers on real loopback sockets, in this test's event loop.
"""

from __future__ import annotations

import contextlib
import signal
import socket
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from starlette.applications import Starlette
from starlette.responses import PlainTextResponse
from starlette.routing import Route

from ruvstream import serving


async def _hello(request: Any) -> PlainTextResponse:
    return PlainTextResponse("hello")


def _app(lifespan: Any = None) -> Starlette:
    return Starlette(routes=[Route("/", _hello)], lifespan=lifespan)


def _server(app: Any, *, handle_signals: bool = False) -> serving.Server:
    config = uvicorn.Config(app, log_level="warning", lifespan="on")
    return serving.Server(config, handle_signals=handle_signals)


async def test_start_returns_once_serving_and_writes_the_port_file(tmp_path: Path) -> None:
    port_file = tmp_path / "port"
    running = await serving.start(
        _server(_app()), serving.bind("127.0.0.1", 0), port_file=port_file
    )
    try:
        assert int(port_file.read_text()) == running.port > 0
        async with httpx.AsyncClient() as client:
            answer = await client.get(f"http://127.0.0.1:{running.port}/")
        assert answer.text == "hello"
    finally:
        await running.stop()
    assert running.task.done()


async def test_answers_are_not_held_back_for_a_delayed_ack() -> None:
    """Accepted connections have TCP_NODELAY, as asyncio gives them on its own sockets."""
    running = await serving.start(_server(_app()), serving.bind("127.0.0.1", 0))
    try:
        async with httpx.AsyncClient() as client:
            await client.get(f"http://127.0.0.1:{running.port}/")
            connections = list(running.server.server_state.connections)
            assert connections
            for protocol in connections:
                sock = protocol.transport.get_extra_info("socket")
                assert sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY)
    finally:
        await running.stop()


def test_a_busy_port_is_a_startup_error_naming_the_address() -> None:
    with socket.create_server(("127.0.0.1", 0)) as holder:
        port = holder.getsockname()[1]
        with pytest.raises(serving.StartupError) as caught:
            serving.bind("127.0.0.1", port)
    assert str(caught.value) == f"cannot listen on 127.0.0.1:{port}: address already in use"


class _DiskFullError(RuntimeError):
    pass


@contextlib.asynccontextmanager
async def _failing_lifespan(app: Any) -> AsyncIterator[None]:
    raise _DiskFullError("no space left for the WAL")
    yield  # pragma: no cover


async def test_a_failing_start_up_is_one_line_with_the_cause(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    port_file = tmp_path / "port"
    with pytest.raises(serving.StartupError) as caught:
        await serving.start(
            _server(_app(_failing_lifespan)), serving.bind("127.0.0.1", 0), port_file=port_file
        )
    assert str(caught.value) == "no space left for the WAL"
    assert isinstance(caught.value.__cause__, _DiskFullError)
    assert not port_file.exists()
    shown = [r for r in caplog.records if r.name.startswith("uvicorn") and r.levelname == "ERROR"]
    assert shown == []  # uvicorn's traceback is held back, not printed beside the one line


async def test_a_pure_asgi_app_failing_its_start_up_is_reported_too() -> None:
    async def app(scope: Any, receive: Any, send: Any) -> None:
        assert scope["type"] == "lifespan"
        await receive()
        raise _DiskFullError("the keys file is unreadable")

    with pytest.raises(serving.StartupError, match="the keys file is unreadable"):
        await serving.start(_server(app), serving.bind("127.0.0.1", 0))


@pytest.mark.parametrize("handle_signals", [False, True])
async def test_signals_are_taken_only_by_servers_that_own_them(handle_signals: bool) -> None:
    before = signal.getsignal(signal.SIGTERM)
    server = _server(_app(), handle_signals=handle_signals)
    running = await serving.start(server, serving.bind("127.0.0.1", 0))
    try:
        during = signal.getsignal(signal.SIGTERM)
    finally:
        await running.stop()
    assert (during == server.handle_exit) is handle_signals
    assert (during == before) is not handle_signals
    assert signal.getsignal(signal.SIGTERM) == before  # given back once stopped
