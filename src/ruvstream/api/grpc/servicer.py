"""``ruvstream.v1.VectorSearch`` over the service layer: decode, call, encode.

Every call first passes the key check (``auth.py``) and the node's readiness (loading or
draining is UNAVAILABLE); a failure ends the call with the error table's
gRPC status, its message as details, and trailing metadata that carries
the error whole: ``ruvstream-error-code``, ``retry-after`` (seconds, when
the error says) and ``ruvstream-error-bin`` (the ``Error`` message).
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import AsyncIterable, AsyncIterator, Iterator
from contextlib import AbstractContextManager
from typing import Any, NoReturn

import grpc

from ruvstream import tracing
from ruvstream.api.admission import refusal
from ruvstream.api.grpc import codec
from ruvstream.api.grpc.auth import call_principal, check_op
from ruvstream.api.grpc.session import GrpcSession
from ruvstream.api.grpc.v1 import vector_search_pb2 as pb
from ruvstream.api.grpc.v1 import vector_search_pb2_grpc as pb_grpc
from ruvstream.api.state import ServingState
from ruvstream.auth import Principal
from ruvstream.error_map import as_ruvstream_error
from ruvstream.errors import UnavailableError
from ruvstream.service import NodeService

__all__ = ["VectorSearchServicer", "abort_with"]


async def abort_with(context: grpc.aio.ServicerContext[Any, Any], exc: BaseException) -> NoReturn:
    """End the call with the error's status and the error itself in trailing metadata."""
    message = codec.error_message(exc)
    trailers: list[tuple[str, str | bytes]] = [
        ("ruvstream-error-code", message.code),
        ("ruvstream-error-bin", message.SerializeToString()),
    ]
    if message.HasField("retry_after"):
        trailers.append(("retry-after", str(max(1, math.ceil(message.retry_after)))))
    await context.abort(grpc.StatusCode[message.status], message.message, tuple(trailers))
    raise AssertionError("unreachable: abort raises")  # pragma: no cover


_GRPC_SCOPE = {"type": "grpc", "headers": []}
"""What admission's ``refusal`` reads of a call: not HTTP, so no declared body size."""


class VectorSearchServicer(pb_grpc.VectorSearchServicer):
    def __init__(self, state: ServingState) -> None:
        self.state = state

    async def _enter(
        self, context: grpc.aio.ServicerContext[Any, Any], collection: str | None = None
    ) -> tuple[NodeService, Principal | None]:
        """The service and the caller, once the call may go ahead; aborts it otherwise.

        ``collection``: the unary and server-streaming searches are checked here
        as a search of it; a Session's requests are checked one by one."""
        try:
            principal = call_principal(self.state.guard, context.invocation_metadata())
            if collection is not None:
                check_op(principal, "search", collection)
            refused = refusal(self.state, _GRPC_SCOPE)
            if refused is not None:
                if self.state.node is not None:
                    self.state.node.metrics.rejected.labels(refused.code).inc()
                raise refused
            return self.state.require_service(), principal
        except Exception as exc:
            await self._fail(context, exc)

    @contextlib.contextmanager
    def _counted(self) -> Iterator[None]:
        """The call counts against ``--max-connections`` while it runs, as HTTP requests do."""
        node = self.state.node
        gauge = node.metrics.open_connections["grpc"] if node is not None else None
        self.state.active += 1
        if gauge is not None:
            gauge.inc()
        try:
            yield
        finally:
            self.state.active -= 1
            if gauge is not None:
                gauge.dec()

    async def _fail(self, context: grpc.aio.ServicerContext[Any, Any], exc: Exception) -> NoReturn:
        error = as_ruvstream_error(exc)
        if self.state.node is not None:
            self.state.node.metrics.errors.labels(error.code).inc()
        await abort_with(context, error)

    async def Search(
        self, request: pb.SearchRequest, context: grpc.aio.ServicerContext[Any, Any]
    ) -> pb.SearchReply:
        with _span(context, "Search"):
            service, _ = await self._enter(context, request.collection)
            with self._counted():
                try:
                    answer = await service.search(request.collection, codec.search_fields(request))
                except Exception as exc:
                    await self._fail(context, exc)
                return codec.search_reply(answer)

    async def StreamSearch(
        self, request: pb.SearchRequest, context: grpc.aio.ServicerContext[Any, Any]
    ) -> AsyncIterator[pb.Hit]:
        with _span(context, "StreamSearch"):
            service, _ = await self._enter(context, request.collection)
            with self._counted():
                try:
                    fields = codec.search_fields(request)
                    pending = service.start_search(request.collection, fields)
                    await pending.future
                    hits = pending.hits()
                except Exception as exc:
                    await self._fail(context, exc)
                for hit in hits:
                    yield codec.hit_message(hit)

    async def Session(
        self,
        request_iterator: AsyncIterable[pb.SessionRequest],
        context: grpc.aio.ServicerContext[Any, Any],
    ) -> AsyncIterator[pb.SessionReply]:
        with _span(context, "Session"):
            service, principal = await self._enter(context)
            session = GrpcSession(self.state, service, principal)
            self.state.sessions.add(session)
            service.metrics.streams.labels("grpc_session").inc()
            try:
                with self._counted():
                    async for reply in session.replies(request_iterator):
                        yield reply
            finally:
                self.state.sessions.discard(session)
                service.metrics.streams.labels("grpc_session").dec()
            if session.drained:
                shutting_down = UnavailableError("the node is shutting down", retry_after=1.0)
                await abort_with(context, shutting_down)


def _span(context: grpc.aio.ServicerContext[Any, Any], method: str) -> AbstractContextManager[Any]:
    """The call's span, child of a ``traceparent`` in its metadata (when tracing is on)."""
    carrier = {
        k.lower(): v
        for k, v in context.invocation_metadata() or ()
        if isinstance(v, str) and k.lower() in tracing.TRACE_HEADERS
    }
    attributes = {
        "rpc.system": "grpc",
        "rpc.service": "ruvstream.v1.VectorSearch",
        "rpc.method": method,
    }
    return tracing.server_span("node", f"grpc {method}", carrier, attributes)
