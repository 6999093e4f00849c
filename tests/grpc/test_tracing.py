"""A gRPC call with ``traceparent`` metadata is a node span in the caller's trace."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import grpc
import pytest
import uvicorn
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from ruvstream import serving, tracing
from ruvstream.api.app import create_app
from ruvstream.api.grpc import start_grpc
from ruvstream.api.grpc.v1 import vector_search_pb2 as pb
from ruvstream.api.grpc.v1 import vector_search_pb2_grpc as pb_grpc
from ruvstream.config import ServerSettings, Settings, StorageSettings

TRACE_ID = "6bf92f3577b34da6a3ce929d0e0e4738"
CLIENT_SPAN = "10f067aa0ba902b7"


@pytest.fixture
def spans() -> Iterator[InMemorySpanExporter]:
    exporter = InMemorySpanExporter()
    assert tracing.configure("ruvstream-test", exporter=exporter)
    try:
        yield exporter
    finally:
        tracing.shutdown()


async def test_grpc_calls_continue_the_callers_trace(
    spans: InMemorySpanExporter, tmp_path: Path
) -> None:
    settings = Settings(server=ServerSettings(port=0), storage=StorageSettings(data_dir=tmp_path))
    app = create_app(settings)
    config = uvicorn.Config(app, log_level="warning", lifespan="on")
    sock = serving.bind("127.0.0.1", 0)
    running = await serving.start(serving.Server(config, handle_signals=False), sock)
    server = await start_grpc(app.state.serving, "127.0.0.1", 0)
    try:
        async with grpc.aio.insecure_channel(f"127.0.0.1:{server.port}") as channel:
            stub = pb_grpc.VectorSearchStub(channel)
            metadata = (("traceparent", f"00-{TRACE_ID}-{CLIENT_SPAN}-01"),)
            with pytest.raises(grpc.aio.AioRpcError) as missing:
                await stub.Search(pb.SearchRequest(collection="none"), metadata=metadata)
            assert missing.value.code() is grpc.StatusCode.NOT_FOUND
            await stub.StreamSearch(pb.SearchRequest(collection="none")).code()
    finally:
        await server.stop(grace=1.0)
        await running.stop()
    by_method = {
        s.attributes["rpc.method"]: s
        for s in spans.get_finished_spans()
        if s.attributes and "rpc.method" in s.attributes
    }
    search = by_method["Search"]
    assert format(search.context.trace_id, "032x") == TRACE_ID
    assert search.parent is not None and format(search.parent.span_id, "016x") == CLIENT_SPAN
    assert not search.status.is_ok  # the call failed, and the span says so
    assert (
        format(by_method["StreamSearch"].context.trace_id, "032x") != TRACE_ID
    )  # a trace of its own
