"""Operational routes: /health, /ready, /metrics, /openapi.json."""

from __future__ import annotations

import time
from typing import Any

import psutil
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ruvstream import __version__
from ruvstream.api.errors import json_response
from ruvstream.api.openapi import OPENAPI
from ruvstream.api.state import ServingState
from ruvstream.error_map import http_error
from ruvstream.errors import UnavailableError

__all__ = ["routes"]

_PROCESS = psutil.Process()


def _state(request: Request) -> ServingState:
    state: ServingState = request.app.state.serving
    return state


def _load(state: ServingState) -> dict[str, Any]:
    node = state.node
    streams = len(state.sessions)
    inflight = state.active
    if node is not None:
        streams += len(node.subscriptions)
        inflight += sum(s.inflight for s in state.sessions)
    limit = state.settings.limits.max_connections
    return {
        "cpu_percent": _PROCESS.cpu_percent(None),
        "memory_bytes": _PROCESS.memory_info().rss,
        "connections": state.connections,
        "max_connections": limit,
        "streams": streams,
        "inflight": inflight,
        "p99_ms": round(node.metrics.recent_search_p99_ms(), 3) if node is not None else 0.0,
        "overloaded": state.connections >= 0.9 * limit,
    }


async def health(request: Request) -> Response:
    state = _state(request)
    node = state.node
    body: dict[str, Any] = {
        "status": "ok",
        "version": __version__,
        "region": state.settings.node.region,
        "node": state.settings.node.node_id,
        "loading": node is None,
        "draining": state.draining,
        **_load(state),
    }
    if node is not None:
        body["uptime_seconds"] = round(time.time() - node.started_at, 3)
        body["collections"] = len(node.catalog.collections)
        body["wal_seq"] = node.wal.last_seq
        extra = node.health_reports()
        if extra.get("degraded"):
            body["status"] = "degraded"
        body.update(extra)
    return json_response(body)


async def ready(request: Request) -> Response:
    state = _state(request)
    if state.ready:
        return json_response({"ready": True})
    reason = (
        "loading" if state.node is None else "draining" if state.draining else "connection limit"
    )
    # Not ready is an unavailable node: the error table gives status and Retry-After.
    refused = http_error(UnavailableError(f"not ready: {reason}", retry_after=1.0))
    return json_response({"ready": False, "reason": reason}, refused.status, dict(refused.headers))


async def metrics(request: Request) -> Response:
    node = _state(request).node
    if node is None:
        return Response(b"", media_type=CONTENT_TYPE_LATEST)
    return Response(generate_latest(node.metrics_registry), media_type=CONTENT_TYPE_LATEST)


async def openapi(request: Request) -> Response:
    return json_response(OPENAPI)


routes = [
    Route("/health", health, methods=["GET"]),
    Route("/ready", ready, methods=["GET"]),
    Route("/metrics", metrics, methods=["GET"]),
    Route("/openapi.json", openapi, methods=["GET"]),
]
