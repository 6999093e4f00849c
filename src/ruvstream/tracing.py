"""OpenTelemetry spans for node and router requests, W3C ``traceparent`` carried along.

Off unless configured: with no ``configure`` call (``--otlp-endpoint``
unset) nothing is instrumented and no exporter exists, so a request costs
nothing extra. Once configured, each HTTP request and WebSocket the node or
router serves is one SERVER span, child of the caller's ``traceparent``
when there is one; the router sends its own span's ``traceparent`` to the
node (``outgoing_headers``), so client, router and node spans share one
trace id. Spans leave through OTLP over HTTP (batched), or, for tests,
through any exporter handed to ``configure``.

The node's fast HTTP protocol answers plain searches before any ASGI
middleware runs, so an instrumented node serves with uvicorn's own
protocol (``--http auto`` says so in its log; ``--http fast`` refuses).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Mapping
from contextlib import AbstractContextManager
from typing import Any

from opentelemetry import trace
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import (
    BatchSpanProcessor,
    SimpleSpanProcessor,
    SpanExporter,
)
from opentelemetry.trace import SpanKind, Status, StatusCode
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

__all__ = [
    "TRACE_HEADERS",
    "TracingMiddleware",
    "configure",
    "enabled",
    "outgoing_headers",
    "server_span",
    "shutdown",
    "tracer",
]

TRACE_HEADERS = ("traceparent", "tracestate")
_PROPAGATOR = TraceContextTextMapPropagator()
_provider: TracerProvider | None = None
"""The process's provider once configured; the global one of OpenTelemetry is
left alone, since it can be set only once and tests configure again."""


def configure(
    service_name: str, *, otlp_endpoint: str | None = None, exporter: SpanExporter | None = None
) -> bool:
    """Trace this process's requests; False (nothing done) when neither is given.

    ``otlp_endpoint`` is an OTLP/HTTP collector's traces URL
    (``http://collector:4318/v1/traces``); ``exporter`` receives every span
    as it ends (a test's in-memory exporter).
    """
    global _provider
    if otlp_endpoint is None and exporter is None:
        return False
    provider = TracerProvider(resource=Resource.create({"service.name": service_name}))
    if exporter is not None:
        provider.add_span_processor(SimpleSpanProcessor(exporter))
    if otlp_endpoint is not None:
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        provider.add_span_processor(
            BatchSpanProcessor(OTLPSpanExporter(endpoint=otlp_endpoint, timeout=5))
        )
    shutdown()
    _provider = provider
    return True


def enabled() -> bool:
    return _provider is not None


def shutdown() -> None:
    """Flush and drop the provider: requests are no longer traced."""
    global _provider
    if _provider is not None:
        _provider.shutdown()
    _provider = None


def tracer(component: str) -> trace.Tracer:
    """The tracer of ``component`` (node, router); a no-op one when not configured."""
    if _provider is None:
        return trace.NoOpTracer()
    return _provider.get_tracer(f"ruvstream.{component}")


def outgoing_headers(headers: Iterable[tuple[str, str]]) -> list[tuple[str, str]]:
    """Headers for a request sent on behalf of the current span: its ``traceparent``.

    Outside a span (tracing off) they pass unchanged, so a caller's own
    ``traceparent`` still reaches the next hop.
    """
    kept = list(headers)
    context = trace.get_current_span().get_span_context()
    if not context.is_valid:
        return kept
    carrier: dict[str, str] = {}
    _PROPAGATOR.inject(carrier)
    return [(k, v) for k, v in kept if k.lower() not in TRACE_HEADERS] + list(carrier.items())


def server_span(
    component: str, name: str, carrier: Mapping[str, str], attributes: Mapping[str, Any]
) -> AbstractContextManager[Any]:
    """A SERVER span for one call, child of the caller's ``traceparent`` in ``carrier``
    (lower-case keys); nothing when tracing is off."""
    if _provider is None:
        return contextlib.nullcontext()
    return tracer(component).start_as_current_span(
        name,
        context=_PROPAGATOR.extract(dict(carrier)),
        kind=SpanKind.SERVER,
        attributes={**attributes, "ruvstream.component": component},
    )


class TracingMiddleware:
    """Pure ASGI: one SERVER span per HTTP request or WebSocket, the caller's trace continued."""

    def __init__(self, app: Any, component: str) -> None:
        self.app = app
        self.component = component
        self.tracer = tracer(component)

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        carrier = {
            k.decode("latin-1"): v.decode("latin-1")
            for k, v in scope["headers"]
            if k.decode("latin-1").lower() in TRACE_HEADERS
        }
        method = scope.get("method", "WEBSOCKET")
        attributes = {
            "http.request.method": method,
            "url.path": scope["path"],
            "ruvstream.component": self.component,
        }
        with self.tracer.start_as_current_span(
            f"{self.component} {method}",
            context=_PROPAGATOR.extract(carrier),
            kind=SpanKind.SERVER,
            attributes=attributes,
        ) as span:

            async def traced_send(message: Any) -> None:
                if message["type"] == "http.response.start":
                    status = int(message["status"])
                    span.set_attribute("http.response.status_code", status)
                    if status >= 500:
                        span.set_status(Status(StatusCode.ERROR))
                await send(message)

            await self.app(scope, receive, traced_send)
