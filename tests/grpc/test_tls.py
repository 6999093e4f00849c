"""The gRPC port over TLS when given a certificate: a client that trusts it gets answers."""

from __future__ import annotations

import subprocess
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


def _certificate(directory: Path) -> tuple[Path, Path]:
    cert, key = directory / "cert.pem", directory / "key.pem"
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "1",
            "-subj",
            "/CN=localhost",
            "-addext",
            "subjectAltName=DNS:localhost,IP:127.0.0.1",
            "-keyout",
            str(key),
            "-out",
            str(cert),
        ],
        check=True,
        capture_output=True,
        timeout=60,
    )
    return cert, key


async def test_tls_port_answers_a_client_that_trusts_the_certificate(tmp_path: Path) -> None:
    cert, key = _certificate(tmp_path)
    settings = Settings(
        server=ServerSettings(port=0), storage=StorageSettings(data_dir=tmp_path / "data")
    )
    app = create_app(settings)
    config = uvicorn.Config(app, log_level="warning", lifespan="on")
    running = await serving.start(
        serving.Server(config, handle_signals=False), serving.bind("127.0.0.1", 0)
    )
    server = await start_grpc(app.state.serving, "127.0.0.1", 0, certfile=cert, keyfile=key)
    try:
        trusted = grpc.ssl_channel_credentials(root_certificates=cert.read_bytes())
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
