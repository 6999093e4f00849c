"""A request through the router to the node is one trace: client, router span, node span.

Router and node run in this process on real loopback sockets, so one
in-memory exporter sees both spans.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
import uvicorn
import websockets
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind

from ruvstream import serving, tracing
from ruvstream.api.app import create_app
from ruvstream.config import ServerSettings, Settings, StorageSettings
from ruvstream.routing import NodeSpec, RouterSettings, running_router

TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"
CLIENT_SPAN = "00f067aa0ba902b7"
WS_TRACE_ID = "5bf92f3577b34da6a3ce929d0e0e4737"


@pytest.fixture
def spans() -> Iterator[InMemorySpanExporter]:
    exporter = InMemorySpanExporter()
    assert tracing.configure("ruvstream-test", exporter=exporter)
    try:
        yield exporter
    finally:
        tracing.shutdown()


@contextlib.asynccontextmanager
async def traced_node(data_dir: Path) -> AsyncIterator[str]:
    """The node app, instrumented as ``ruvstream serve`` instruments it, under uvicorn."""
    settings = Settings(server=ServerSettings(port=0), storage=StorageSettings(data_dir=data_dir))
    app = create_app(settings)
    app.add_middleware(tracing.TracingMiddleware, component="node")
    config = uvicorn.Config(app, log_level="warning", lifespan="on")
    running = await serving.start(
        serving.Server(config, handle_signals=False), serving.bind("127.0.0.1", 0)
    )
    try:
        yield f"http://127.0.0.1:{running.port}"
    finally:
        await running.stop()


async def test_router_and_node_spans_share_the_clients_trace(
    spans: InMemorySpanExporter, tmp_path: Path
) -> None:
    async with traced_node(tmp_path / "node") as node_url:
        settings = RouterSettings(
            nodes=(NodeSpec("local", node_url, "n1"),),
            default_region="local",
            anonymous_tier="premium",
        )
        async with running_router(settings) as router_url, httpx.AsyncClient() as client:
            created = await client.put(
                f"{router_url}/v1/collections/c",
                json={"dim": 2},
                headers={"traceparent": f"00-{TRACE_ID}-{CLIENT_SPAN}-01"},
            )
            assert created.status_code == 201, created.text
            untraced = await client.get(f"{router_url}/v1/collections")
            assert untraced.status_code == 200
            ws_url = router_url.replace("http://", "ws://") + "/v1/ws"
            traceparent = f"00-{WS_TRACE_ID}-{CLIENT_SPAN}-01"
            async with websockets.connect(
                ws_url, additional_headers={"traceparent": traceparent}
            ) as ws:
                await ws.send('{"id": 1, "op": "ping"}')
                assert '"pong"' in await asyncio.wait_for(ws.recv(), 30)
    by_component = {}
    for span in spans.get_finished_spans():
        assert span.kind is SpanKind.SERVER
        if span.attributes and span.attributes.get("http.request.method") == "PUT":
            by_component[span.attributes["ruvstream.component"]] = span
    router, node = by_component["router"], by_component["node"]
    assert format(router.context.trace_id, "032x") == TRACE_ID
    assert format(node.context.trace_id, "032x") == TRACE_ID
    assert router.parent is not None and format(router.parent.span_id, "016x") == CLIENT_SPAN
    assert node.parent is not None and node.parent.span_id == router.context.span_id
    assert node.attributes is not None and node.attributes["http.response.status_code"] == 201
    # A request without traceparent starts a trace of its own, router and node alike.
    gets = [
        s
        for s in spans.get_finished_spans()
        if s.attributes and s.attributes["url.path"] == "/v1/collections"
    ]
    assert len({s.context.trace_id for s in gets}) == 1 and len(gets) == 2
    assert format(gets[0].context.trace_id, "032x") != TRACE_ID

    # A WebSocket through the router: the node's span is the router's child too.
    sockets = {
        s.attributes["ruvstream.component"]: s
        for s in spans.get_finished_spans()
        if s.attributes and s.attributes["http.request.method"] == "WEBSOCKET"
    }
    assert {format(s.context.trace_id, "032x") for s in sockets.values()} == {WS_TRACE_ID}
    assert sockets["node"].parent is not None
    assert sockets["node"].parent.span_id == sockets["router"].context.span_id


def test_nothing_is_traced_unless_configured() -> None:
    assert not tracing.configure("ruvstream-test")
    assert not tracing.enabled()
    headers = [("traceparent", f"00-{TRACE_ID}-{CLIENT_SPAN}-01")]
    assert tracing.outgoing_headers(headers) == headers  # passed on as the client sent it
