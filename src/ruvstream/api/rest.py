"""REST routes of /v1: decode the request, call the service, encode its answer.

Collections, records, search (JSON or SSE), batch search and SSE
subscriptions. Every check, replay and answer shape is the service layer's
(``ruvstream.service``); what stays here is HTTP: paths, headers, bodies,
statuses.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ruvstream.api import sse
from ruvstream.api.codec import JSON, OCTET_STREAM, packed_ids, parse_json, require_media_type
from ruvstream.api.errors import error_response, json_response
from ruvstream.api.state import ServingState
from ruvstream.errors import (
    InvalidParameterError,
    PayloadTooLargeError,
    RuvstreamError,
    UpgradeRequiredError,
)
from ruvstream.service import NodeService, WriteAnswer

__all__ = ["routes"]

Handler = Callable[[Request], Awaitable[Response]]
UNFOLLOWED_TTL_SECONDS = 60.0
"""A subscription created over REST closes if no event stream opens it by then."""


def _state(request: Request) -> ServingState:
    state: ServingState = request.app.state.serving
    return state


def _service(request: Request) -> NodeService:
    return _state(request).require_service()


def endpoint(handler: Handler) -> Handler:
    """Turn every ruvstream error (and anything unexpected) into its answer."""

    async def wrapped(request: Request) -> Response:
        try:
            return await handler(request)
        except Exception as exc:
            return counted_error_response(_state(request), exc)

    wrapped.__name__ = handler.__name__
    return wrapped


def counted_error_response(state: ServingState, exc: BaseException) -> Response:
    """The error's answer, counted in the node's error metrics when it is ours."""
    if isinstance(exc, RuvstreamError) and state.node is not None:
        state.node.metrics.errors.labels(exc.code).inc()
    return error_response(exc)


async def read_body(request: Request) -> bytes:
    """The body, refused once it passes the payload limit (chunked bodies too)."""
    limit = _state(request).settings.limits.max_payload_bytes
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise PayloadTooLargeError(f"the body is over the {limit}-byte limit", limit=limit)
        chunks.append(chunk)
    return b"".join(chunks)


async def read_json(request: Request) -> dict[str, Any]:
    """A JSON object body; any content type but JSON (or none) answers 415."""
    require_media_type(request.headers.get("content-type"), JSON)
    return parse_json(await read_body(request))


def _key(request: Request) -> str:
    key = request.headers.get("idempotency-key", "")
    if len(key) > 256:
        raise InvalidParameterError("Idempotency-Key is at most 256 characters")
    return key


def _written(answer: WriteAnswer, status: int = 200) -> Response:
    """A write's answer; a replay answers 200 and says so in ``Idempotent-Replayed``."""
    if answer.replayed:
        return json_response(answer.body, headers={"Idempotent-Replayed": "true"})
    return json_response(answer.body, status)


# -- collections --------------------------------------------------------------
@endpoint
async def put_collection(request: Request) -> Response:
    service, key = _service(request), _key(request)
    body = await read_json(request)
    return _written(await service.create_collection(request.path_params["name"], body, key), 201)


@endpoint
async def list_collections(request: Request) -> Response:
    return json_response(_service(request).list_collections())


@endpoint
async def get_collection(request: Request) -> Response:
    return json_response(_service(request).collection_info(request.path_params["name"]))


@endpoint
async def delete_collection(request: Request) -> Response:
    service, key = _service(request), _key(request)
    return _written(await service.drop_collection(request.path_params["name"], key))


# -- records ------------------------------------------------------------------------
@endpoint
async def upsert_records(request: Request) -> Response:
    service, name, key = _service(request), request.path_params["name"], _key(request)
    kind = require_media_type(request.headers.get("content-type"), JSON, OCTET_STREAM)
    raw = await read_body(request)
    if kind == OCTET_STREAM:
        ids = packed_ids(request.headers.get("x-ids"))
        return _written(await service.upsert_packed(name, ids, raw, key))
    return _written(await service.upsert(name, parse_json(raw), key))


@endpoint
async def get_record(request: Request) -> Response:
    name, record_id = request.path_params["name"], request.path_params["id"]
    return json_response(await _service(request).get_record(name, record_id))


@endpoint
async def delete_record(request: Request) -> Response:
    service, key = _service(request), _key(request)
    name, record_id = request.path_params["name"], request.path_params["id"]
    return _written(await service.delete_record(name, record_id, key))


@endpoint
async def delete_records(request: Request) -> Response:
    service, key = _service(request), _key(request)
    body = await read_json(request)
    return _written(await service.delete(request.path_params["name"], body, key))


# -- search ---------------------------------------------------------------------
@endpoint
async def search(request: Request) -> Response:
    state = _state(request)
    if state.search_paths is not None:
        state.search_paths.standard.inc()
    service, name = state.require_service(), request.path_params["name"]
    query = await read_json(request)
    if "text/event-stream" in request.headers.get("accept", ""):
        return sse.search_stream(service, name, service.search_request(name, query))
    return json_response(await service.search(name, query))


@endpoint
async def search_batch(request: Request) -> Response:
    service, name = _service(request), request.path_params["name"]
    return json_response(await service.search_batch(name, await read_json(request)))


# -- subscriptions over SSE ---------------------------------------------------------
@endpoint
async def create_subscription(request: Request) -> Response:
    service, name = _service(request), request.path_params["name"]
    sub = await service.subscribe(name, await read_json(request))

    def expire_unfollowed() -> None:
        if not sub.followed:
            service.unsubscribe(sub.id, "never followed")

    asyncio.get_running_loop().call_later(UNFOLLOWED_TTL_SECONDS, expire_unfollowed)
    events = f"/v1/subscriptions/{sub.id}/events"
    return json_response({"id": sub.id, "collection": name, "events": events}, 201)


@endpoint
async def subscription_events(request: Request) -> Response:
    state = _state(request)
    service = state.require_service()
    return sse.subscription_stream(state, service, service.subscription(request.path_params["id"]))


@endpoint
async def delete_subscription(request: Request) -> Response:
    service, sub_id = _service(request), request.path_params["id"]
    service.subscription(sub_id)  # unknown ids answer 404
    service.unsubscribe(sub_id, "deleted")
    return json_response({"deleted": True})


@endpoint
async def websocket_over_http(request: Request) -> Response:
    raise UpgradeRequiredError("GET /v1/ws takes a WebSocket upgrade", upgrade="websocket")


def by_method(**handlers: Handler) -> Handler:
    """One endpoint for every method of a path: one route per path, so a 405
    answers an ``Allow`` that names all of them (HEAD is GET without a body)."""

    async def dispatch(request: Request) -> Response:
        method = "GET" if request.method == "HEAD" else request.method
        return await handlers[method](request)

    dispatch.__name__ = "_".join(h.__name__ for h in handlers.values())
    return dispatch


# Starlette tries routes in order: the hot paths (search, upsert) come first.
routes = [
    Route("/v1/collections/{name}/search", search, methods=["POST"]),
    Route("/v1/collections/{name}/records", upsert_records, methods=["POST"]),
    Route("/v1/collections/{name}/search/batch", search_batch, methods=["POST"]),
    Route("/v1/collections/{name}/records/delete", delete_records, methods=["POST"]),
    Route(
        "/v1/collections/{name}/records/{id}",
        by_method(GET=get_record, DELETE=delete_record),
        methods=["GET", "DELETE"],
    ),
    Route("/v1/collections", list_collections, methods=["GET"]),
    Route(
        "/v1/collections/{name}",
        by_method(PUT=put_collection, GET=get_collection, DELETE=delete_collection),
        methods=["PUT", "GET", "DELETE"],
    ),
    Route("/v1/collections/{name}/subscriptions", create_subscription, methods=["POST"]),
    Route("/v1/subscriptions/{id}/events", subscription_events, methods=["GET"]),
    Route("/v1/subscriptions/{id}", delete_subscription, methods=["DELETE"]),
    Route("/v1/ws", websocket_over_http, methods=["GET"]),  # the upgrade goes to FastLane
]
