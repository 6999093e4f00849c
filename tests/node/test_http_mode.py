"""``--http auto|fast|standard``: the start-up checks, and no shortcut around middleware."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
from collections.abc import AsyncIterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import httpx
import pytest
import uvicorn
from click.testing import CliRunner
from starlette.applications import Starlette
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from uvicorn.protocols.http import flow_control, httptools_impl

from ruvstream.api import create_app, http_mode
from ruvstream.api.http_guard import GuardedHttpProtocol
from ruvstream.api.http_mode import (
    FastPathUnavailableError,
    fast_path_unavailable,
    http_protocol_for,
    missing_internals,
    unknown_stack,
)
from ruvstream.api.http_protocol import NodeHttpProtocol
from ruvstream.cli.main import main
from ruvstream.config import NodeSettings, ServerSettings, Settings, StorageSettings


def _settings(data_dir: Path) -> Settings:
    return Settings(
        server=ServerSettings(port=0, drain_seconds=1.0),
        node=NodeSettings(node_id="http-mode"),
        storage=StorageSettings(data_dir=data_dir, fsync="off"),
    )


class StampMiddleware:
    """Middleware added after the fact: stamps every HTTP answer it sees."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        async def stamped(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = [*message.get("headers", []), (b"x-stamp", b"seen")]
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, stamped if scope["type"] == "http" else send)


def test_the_installed_uvicorn_has_what_the_fast_protocol_uses() -> None:
    assert missing_internals(httptools_impl, flow_control) == []
    assert fast_path_unavailable() is None


def test_a_uvicorn_without_the_internals_is_named_exactly() -> None:
    class Protocol:  # no _start_asgi_task, and no cycle field
        def __init__(self) -> None:
            self.app = self.loop = self.transport = None

        def on_message_complete(self) -> None: ...
        def handle_websocket_upgrade(self) -> None: ...
        def connection_made(self) -> None: ...

    class Cycle:
        def __init__(self) -> None:
            self.scope = self.body = self.more_body = None

    impl = SimpleNamespace(STATUS_LINE={}, HttpToolsProtocol=Protocol, RequestResponseCycle=Cycle)
    missing = missing_internals(impl, SimpleNamespace())
    assert "HIGH_WATER_LIMIT" in missing
    assert "HttpToolsProtocol._start_asgi_task" in missing
    assert "HttpToolsProtocol.cycle" in missing
    assert "RequestResponseCycle.disconnected" in missing
    assert "RequestResponseCycle.scope" not in missing
    assert "STATUS_LINE" not in missing


def test_only_the_node_stack_is_known(tmp_path: Path) -> None:
    app = create_app(_settings(tmp_path))
    assert unknown_stack(app) is None
    assert unknown_stack(Starlette()) is not None  # no node middleware, no search route
    assert unknown_stack(object()) is not None
    app.add_middleware(StampMiddleware)
    reason = unknown_stack(app)
    assert reason is not None and "StampMiddleware" in reason


def test_each_mode_picks_its_protocol(tmp_path: Path) -> None:
    app = create_app(_settings(tmp_path))
    fast = http_protocol_for("fast", app)
    assert isinstance(fast, type) and issubclass(fast, NodeHttpProtocol)
    assert fast.node_app is app
    auto = http_protocol_for("auto", app)
    assert isinstance(auto, type) and issubclass(auto, NodeHttpProtocol)
    standard = http_protocol_for("standard", app)
    assert isinstance(standard, type) and issubclass(standard, GuardedHttpProtocol)
    assert not issubclass(standard, NodeHttpProtocol), "standard takes no shortcut"
    with pytest.raises(ValueError, match="--http"):
        http_protocol_for("quick", app)


def test_an_unknown_stack_gets_standard_under_auto_and_a_refusal_under_fast(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    app = create_app(_settings(tmp_path))
    app.add_middleware(StampMiddleware)
    with pytest.raises(FastPathUnavailableError, match="StampMiddleware"):
        http_protocol_for("fast", app)
    with caplog.at_level(logging.WARNING, logger=http_mode.__name__):
        standard = http_protocol_for("auto", app)
    assert isinstance(standard, type) and not issubclass(standard, NodeHttpProtocol)
    lines = [r.getMessage() for r in caplog.records if r.name == http_mode.__name__]
    assert len(lines) == 1 and "StampMiddleware" in lines[0]


def test_fast_asked_for_but_unavailable_refuses_to_start_in_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(http_mode, "fast_path_unavailable", lambda: "uvicorn 9.9 lacks X")
    args = ["serve", "--http", "fast", "--data-dir", str(tmp_path), "--port", "0"]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 1
    assert result.output.strip().splitlines() == [
        "Error: --http fast cannot run: uvicorn 9.9 lacks X"
    ]
    assert not any(tmp_path.iterdir())  # refused before the node opened its data dir


@contextlib.asynccontextmanager
async def serving(app: Starlette, http: Any, **options: Any) -> AsyncIterator[str]:
    """A real uvicorn server on a loopback port for ``app``, configured as the
    node's (no proxy-header layer) unless ``options`` say otherwise; its base URL."""
    options = {"proxy_headers": False, "log_level": "warning", **options}
    config = uvicorn.Config(app, host="127.0.0.1", port=0, http=http, **options)
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    while not server.started:
        assert not task.done(), "the server did not start"
        await asyncio.sleep(0.02)
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task


async def _searched_three_times(
    app: Starlette, http_protocol: Any, **options: Any
) -> tuple[dict[str, str], list[str | None]]:
    """Serve ``app`` and search it three times: the path counts, and each answer's stamp."""
    async with (
        serving(app, http_protocol, **options) as url,
        httpx.AsyncClient(base_url=url, timeout=30) as http,
    ):
        assert (await http.put("/v1/collections/c", json={"dim": 2})).status_code == 201
        records = {"records": [{"id": "a", "vector": [1.0, 0.0]}]}
        assert (await http.post("/v1/collections/c/records", json=records)).status_code == 200
        stamps = []
        for _ in range(3):
            found = await http.post("/v1/collections/c/search", json={"vector": [1.0, 0.0]})
            assert found.status_code == 200 and found.json()["hits"][0]["id"] == "a"
            stamps.append(found.headers.get("x-stamp"))
        metrics = (await http.get("/metrics")).text
    pattern = r'ruvstream_http_search_path_total\{path="(\w+)"\} (\S+)'
    return dict(re.findall(pattern, metrics)), stamps


async def test_the_node_stack_takes_the_shortcut_in_process(tmp_path: Path) -> None:
    """The control for the two below: served the same way, the node's own app is fast."""
    app = create_app(_settings(tmp_path))
    paths, _ = await _searched_three_times(app, http_protocol_for("fast", app))
    assert paths == {"fast": "3.0", "standard": "0.0"}


async def test_an_added_middleware_sees_every_search(tmp_path: Path) -> None:
    """auto in front of a stack with an extra middleware: the shortcut is off
    (the counter says so) and the middleware runs for every search."""
    app = create_app(_settings(tmp_path))
    app.add_middleware(StampMiddleware)
    paths, stamps = await _searched_three_times(app, http_protocol_for("auto", app))
    assert paths == {"fast": "0.0", "standard": "3.0"}
    assert stamps == ["seen"] * 3


async def test_middleware_added_after_the_choice_turns_the_shortcut_off(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    app = create_app(_settings(tmp_path))
    fast = http_protocol_for("fast", app)  # the stack is the node's own here
    app.add_middleware(StampMiddleware)  # and changes before the server starts
    with caplog.at_level(logging.WARNING, logger="ruvstream.api.http_protocol"):
        paths, stamps = await _searched_three_times(app, fast)
    assert paths == {"fast": "0.0", "standard": "3.0"}
    assert stamps == ["seen"] * 3
    assert any("StampMiddleware" in r.getMessage() for r in caplog.records)


async def test_an_app_uvicorn_wraps_is_served_the_asgi_way(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """uvicorn's proxy-header layer is a middleware too: with it on, no shortcut."""
    app = create_app(_settings(tmp_path))
    with caplog.at_level(logging.WARNING, logger="ruvstream.api.http_protocol"):
        paths, _ = await _searched_three_times(
            app, http_protocol_for("fast", app), proxy_headers=True
        )
    assert paths == {"fast": "0.0", "standard": "3.0"}
    assert any("ProxyHeadersMiddleware" in r.getMessage() for r in caplog.records)
