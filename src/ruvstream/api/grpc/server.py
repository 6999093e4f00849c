"""The node's gRPC server: grpc.aio on the node's own event loop, beside uvicorn.

``start_grpc`` binds first (a busy port is a ``StartupError`` before the
node loads), serves ``ruvstream.v1.VectorSearch`` and the standard health
service (``grpc.health.v1.Health``). Health says NOT_SERVING until the node
is open, SERVING while it serves, NOT_SERVING again once it drains; the
overall service ("") and ``ruvstream.v1.VectorSearch`` answer alike.
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import grpc
from grpc_health.v1 import _async as health_aio  # type: ignore[attr-defined]  # not in grpc-stubs
from grpc_health.v1 import health_pb2, health_pb2_grpc

from ruvstream import serving
from ruvstream.api.grpc.servicer import VectorSearchServicer
from ruvstream.api.grpc.v1 import vector_search_pb2 as pb
from ruvstream.api.grpc.v1 import vector_search_pb2_grpc as pb_grpc
from ruvstream.api.state import ServingState

__all__ = ["SERVICE_NAME", "GrpcServer", "start_grpc"]

SERVICE_NAME: str = pb.DESCRIPTOR.services_by_name["VectorSearch"].full_name
_HEALTH_NAMES = ("", SERVICE_NAME)
_OPEN_POLL_SECONDS = 0.05


@dataclass(eq=False)
class GrpcServer:
    server: grpc.aio.Server
    health: Any
    """grpc_health's asyncio ``HealthServicer``."""
    port: int
    watcher: asyncio.Task[None] | None = None

    async def set_serving(self, serving_now: bool) -> None:
        status = (
            health_pb2.HealthCheckResponse.SERVING
            if serving_now
            else health_pb2.HealthCheckResponse.NOT_SERVING
        )
        for name in _HEALTH_NAMES:
            await self.health.set(name, status)

    def follow(self, state: ServingState) -> None:
        """SERVING once the node is open; NOT_SERVING once it starts to drain."""

        async def watch() -> None:
            while state.service is None and not state.draining:  # noqa: ASYNC110
                await asyncio.sleep(_OPEN_POLL_SECONDS)  # the lifespan sets no event to wait on
            await self.set_serving(not state.draining)
            await state.stop_streams.wait()
            await self.set_serving(False)

        self.watcher = asyncio.get_running_loop().create_task(watch())

    async def stop(self, grace: float) -> None:
        """Refuse new calls, give those in flight ``grace`` seconds, then cancel them."""
        if self.watcher is not None:
            self.watcher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self.watcher
        await self.server.stop(grace)


async def start_grpc(
    state: ServingState,
    host: str,
    port: int,
    *,
    certfile: Path | None = None,
    keyfile: Path | None = None,
) -> GrpcServer:
    """Serve on ``host:port`` (0 picks a free port); health is NOT_SERVING until ``follow``
    sees the node open. With ``certfile`` and ``keyfile`` (PEM) the port speaks TLS only."""
    server = grpc.aio.server(
        options=[
            ("grpc.max_receive_message_length", state.settings.limits.max_payload_bytes),
            ("grpc.so_reuseport", 0),
        ]
    )
    pb_grpc.add_VectorSearchServicer_to_server(VectorSearchServicer(state), server)
    checks = health_aio.HealthServicer()
    health_pb2_grpc.add_HealthServicer_to_server(checks, server)
    address = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
    credentials = _credentials(certfile, keyfile)
    try:
        if credentials is not None:
            bound = server.add_secure_port(address, credentials)
        else:
            bound = server.add_insecure_port(address)
    except RuntimeError as exc:
        raise serving.StartupError(f"cannot listen for gRPC on {address}: {exc}") from None
    if bound == 0:
        raise serving.StartupError(f"cannot listen for gRPC on {address}")
    await server.start()
    grpc_server = GrpcServer(server, checks, bound)
    await grpc_server.set_serving(False)
    return grpc_server


def _credentials(certfile: Path | None, keyfile: Path | None) -> grpc.ServerCredentials | None:
    """TLS credentials from PEM files (read once, at start-up), or None for cleartext."""
    if certfile is None or keyfile is None:
        return None
    return grpc.ssl_server_credentials([(keyfile.read_bytes(), certfile.read_bytes())])
