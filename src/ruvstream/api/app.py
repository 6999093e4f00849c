"""The node's ASGI application: routes, admission, and a lifespan that owns the node."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator
from typing import Any

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.routing import BaseRoute, Mount, WebSocketRoute

from ruvstream.api import ops, rest
from ruvstream.api.admission import AdmissionMiddleware
from ruvstream.api.errors import routing_error_response
from ruvstream.api.fastlane import FastLane
from ruvstream.api.search_paths import SearchPaths
from ruvstream.api.state import ServingState
from ruvstream.api.websocket import websocket_endpoint
from ruvstream.auth import AuthMiddleware, Guard, OriginPolicy
from ruvstream.config import Settings
from ruvstream.engine.node import Node
from ruvstream.errors import RuvstreamError
from ruvstream.service import NodeService

__all__ = ["create_app"]

log = logging.getLogger(__name__)


def _replication_routes() -> list[BaseRoute]:
    try:
        from ruvstream.replication.routes import routes
    except ImportError:
        return []
    return [Mount("/v1/replication", routes=list(routes))]


def _front_middleware(state: ServingState) -> list[Middleware]:
    """CORS (answers preflights, which carry no key) ahead of the key check."""
    auth = state.settings.auth
    front = []
    if auth.cors_origins:
        from starlette.middleware.cors import CORSMiddleware

        front.append(
            Middleware(
                CORSMiddleware,
                allow_origins=list(auth.cors_origins),
                allow_methods=["GET", "POST", "PUT", "DELETE"],
                allow_headers=["authorization", "x-api-key", "content-type", "idempotency-key"],
            )
        )
    origins = OriginPolicy(auth.allowed_origins or auth.cors_origins)

    def count(refused: RuvstreamError) -> None:
        if state.node is not None:
            state.node.metrics.rejected.labels(refused.code).inc()

    front.append(Middleware(AuthMiddleware, guard=state.guard, origins=origins, on_refusal=count))
    return front


def create_app(settings: Settings) -> Starlette:
    """A node app; the node opens in the lifespan and is ``app.state.node`` after."""
    state = ServingState(settings)
    api_keys = settings.auth.api_keys
    open_metrics = settings.auth.open_metrics
    state.guard = (
        Guard.from_file(api_keys, open_metrics=open_metrics) if api_keys is not None else None
    )

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        node = await Node.open(settings)
        replication: Any = None
        if settings.replication.bus != "none":
            from ruvstream.replication import start_replication

            replication = await start_replication(node, settings.replication)
        state.service = NodeService(node)
        state.search_paths = SearchPaths(node.metrics.registry)
        state.node = node
        app.state.node = node
        agent: Any = None
        if settings.control.nats_url:  # the control-plane agent: registry, figures, tasks
            from ruvstream.control.agent import start_agent

            agent = await start_agent(node, state, settings, replication)
        try:
            yield
        finally:
            if not state.draining:
                await state.drain()
            if replication is not None:
                await replication.close()
            await node.close()
            if agent is not None:
                await agent.close()
            log.info("node %s closed: WAL flushed, snapshot written", node.node_id)

    app = Starlette(
        routes=[
            *rest.routes,
            *ops.routes,
            WebSocketRoute("/v1/ws", websocket_endpoint),
            *_replication_routes(),
        ],
        middleware=[
            Middleware(AdmissionMiddleware, state=state),
            *_front_middleware(state),
            Middleware(FastLane),
        ],
        lifespan=lifespan,
        exception_handlers={HTTPException: routing_error_response},
    )
    app.state.serving = state
    return app
