"""The router as a pure ASGI app: its own ops routes, everything else proxied.

Pure ASGI rather than a routing framework so no middleware can buffer a
stream. ``/health``, ``/ready`` and ``/metrics`` answer for the router itself
(not proxied), ``/admin/`` routes go to ``serve_admin`` (the degradation
plan the control plane sends); every other HTTP path and every WebSocket goes through
admission and then to a node. The router, the pooled client and the prober
live in the lifespan and are closed in reverse order.
"""

from __future__ import annotations

from typing import Any

import orjson
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from starlette.types import Receive, Scope, Send

from ruvstream.auth import refuse
from ruvstream.errors import RuvstreamError

from .config import RouterSettings
from .degradation import ADMIN_PREFIX, Degradation, serve_admin
from .http_proxy import forward_http
from .prober import Prober
from .responses import send_error
from .router import Router
from .strategies import adaptive_score
from .ws_proxy import relay_websocket

__all__ = ["RouterApp"]


class RouterApp:
    def __init__(self, settings: RouterSettings) -> None:
        self.settings = settings
        self.router: Router | None = None
        self.prober: Prober | None = None
        self.follower: Any = None
        self.degradation: Degradation | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
            return
        router = self.router
        assert router is not None, "the router starts in the lifespan"
        if scope["type"] == "http" and scope["path"] in ("/health", "/ready", "/metrics"):
            await self._ops(router, scope["path"], send)
            return
        if scope["type"] == "http" and scope["path"].startswith(ADMIN_PREFIX):
            assert self.degradation is not None
            try:
                if router.guard is not None:
                    router.guard.check(scope)  # admin on every collection
            except RuvstreamError as exc:
                await send_error(send, exc)
                return
            await serve_admin(self.degradation, scope, receive, send)
            return
        client = scope.get("client")
        try:
            caller = router.caller(scope, client[0] if client else None)
            if self.degradation is not None:
                self.degradation.check(caller.tier)
            await router.admit(caller)
        except RuvstreamError as exc:
            if scope["type"] == "websocket":
                await refuse(scope, receive, send, exc)
            else:
                await send_error(send, exc)
            return
        try:
            if scope["type"] == "websocket":
                await relay_websocket(router, caller, scope, receive, send)
            else:
                await forward_http(router, caller, scope, receive, send)
        finally:
            router.release(caller)

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                self.router = Router(self.settings)
                self.degradation = Degradation(
                    self.router.admission, self.router.metrics, self.router.clock
                )
                self.prober = Prober(self.router)
                await self.prober.probe_all()
                self.prober.start()
                if self.settings.registry_nats_url:  # nodes from the control plane's registry
                    from .membership import start_registry_follower

                    self.follower = await start_registry_follower(self.router)
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                if self.follower is not None:
                    await self.follower.stop()
                if self.prober is not None:
                    await self.prober.stop()
                if self.router is not None:
                    await self.router.close()
                await send({"type": "lifespan.shutdown.complete"})
                return

    async def _ops(self, router: Router, path: str, send: Send) -> None:
        status = 200
        if path == "/metrics":
            router.metrics.refresh(router.table.nodes, router.outliers, router.pressure())
            body = generate_latest(router.metrics.registry)
            await _send(send, status, body, CONTENT_TYPE_LATEST)
            return
        routable = [n for n in router.table.nodes if router.table.routable(n)]
        if path == "/ready":
            status = 200 if routable else 503
            payload: dict[str, Any] = {"ready": bool(routable), "routable_nodes": len(routable)}
        else:
            payload = {
                "status": "ok" if routable else "degraded",
                "role": "router",
                "strategy": router.table.strategy_name,
                "inflight": router.inflight,
                "pressure": round(router.pressure(), 4),
                "nodes": [
                    {
                        "name": n.name,
                        "region": n.region,
                        "url": n.url,
                        "healthy": n.healthy,
                        "breaker": n.breaker.state.name.lower(),
                        "ejected": router.outliers.is_ejected(n.name),
                        "inflight": n.inflight,
                        "served": n.served,
                        "overloaded": n.report.overloaded,
                        "streams": n.report.streams,
                        "cpu_percent": n.report.cpu_percent,
                        "score": round(adaptive_score(n), 3),
                    }
                    for n in router.table.nodes
                ],
            }
        await _send(send, status, orjson.dumps(payload), "application/json")


async def _send(send: Send, status: int, body: bytes, content_type: str) -> None:
    headers = [
        (b"content-type", content_type.encode()),
        (b"content-length", str(len(body)).encode()),
    ]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
