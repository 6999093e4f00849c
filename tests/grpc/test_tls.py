"""The gRPC port over TLS when given a certificate: a client that trusts its CA gets answers."""

from __future__ import annotations

from pathlib import Path

import grpc
import pytest
import uvicorn

from ruvstream import serving
from ruvstream.api.app import create_app
from ruvstream.api.grpc import start_grpc
from ruvstream.api.grpc.v1 import vector_search_pb2 as pb
from ruvstream.api.grpc.v1 import vector_search_pb2_grpc as pb_grpc
from ruvstream.config import ServerSettings, Settings, StorageSettings

from ..certs import make_certificates


async def test_tls_port_answers_a_client_that_trusts_the_certificate(tmp_path: Path) -> None:
    certs = make_certificates(tmp_path / "certs")
    settings = Settings(
        server=ServerSettings(port=0), storage=StorageSettings(data_dir=tmp_path / "data")
    )
    app = create_app(settings)
    config = uvicorn.Config(app, log_level="warning", lifespan="on")
    running = await serving.start(
        serving.Server(config, handle_signals=False), serving.bind("127.0.0.1", 0)
    )
    server = await start_grpc(
        app.state.serving, "127.0.0.1", 0, certfile=certs.cert, keyfile=certs.key
    )
    try:
        trusted = grpc.ssl_channel_credentials(root_certificates=certs.ca.read_bytes())
        async with grpc.aio.secure_channel(f"localhost:{server.port}", trusted) as channel:
            with pytest.raises(grpc.aio.AioRpcError) as missing:
                await pb_grpc.VectorSearchStub(channel).Search(pb.SearchRequest(collection="c"))
        assert missing.value.code() is grpc.StatusCode.NOT_FOUND  # answered by the node
        async with grpc.aio.insecure_channel(f"127.0.0.1:{server.port}") as plain:
            with pytest.raises(grpc.aio.AioRpcError) as refused:
                await pb_grpc.VectorSearchStub(plain).Search(
                    pb.SearchRequest(collection="c"), timeout=10
                )
        assert refused.value.code() is grpc.StatusCode.UNAVAILABLE  # no cleartext on a TLS port
    finally:
        await server.stop(grace=1.0)
        await running.stop()
