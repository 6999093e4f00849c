"""REST routes of /v1: collections, records, search (JSON or SSE), subscriptions."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ruvstream.api import sse
from ruvstream.api.codec import (
    hit_json,
    parse_ids,
    parse_json,
    parse_raw_records,
    parse_records,
    parse_search,
    parse_subscription,
    search_answer,
)
from ruvstream.api.errors import error_response, json_response
from ruvstream.api.state import ServingState
from ruvstream.core.spec import CollectionSpec, validate_collection_name
from ruvstream.engine.node import Node
from ruvstream.errors import (
    InvalidParameterError,
    PayloadTooLargeError,
    RecordNotFoundError,
    RuvstreamError,
)

__all__ = ["routes"]

Handler = Callable[[Request], Awaitable[Response]]
MAX_BATCH_QUERIES = 1000
UNFOLLOWED_TTL_SECONDS = 60.0
"""A subscription created over REST closes if no event stream opens it by then."""


def _state(request: Request) -> ServingState:
    state: ServingState = request.app.state.serving
    return state


def _node(request: Request) -> Node:
    return _state(request).require_node()


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
    return parse_json(await read_body(request))


def _key(request: Request) -> str:
    key = request.headers.get("idempotency-key", "")
    if len(key) > 256:
        raise InvalidParameterError("Idempotency-Key is at most 256 characters")
    return key


def _replayed(node: Node, collection: str, key: str) -> Response | None:
    """The answer to a write already applied under this idempotency key."""
    previous = node.idempotency.get(collection, key)
    if previous is None:
        return None
    body = {**previous, "duplicate": True}
    if collection in node.catalog.collections:
        body["version"] = node.catalog.collections[collection].change_count
    return json_response(body, headers={"Idempotent-Replayed": "true"})


# -- collections --------------------------------------------------------------
@endpoint
async def put_collection(request: Request) -> Response:
    node = _node(request)
    name = validate_collection_name(request.path_params["name"])
    key = _key(request)
    if (replay := _replayed(node, name, key)) is not None:
        return replay
    spec = CollectionSpec.from_request(await read_json(request))
    return json_response(await node.create_collection(name, spec, key), 201)


@endpoint
async def list_collections(request: Request) -> Response:
    node = _node(request)
    return json_response({"collections": [node.info(n) for n in sorted(node.catalog.collections)]})


@endpoint
async def get_collection(request: Request) -> Response:
    return json_response(_node(request).info(request.path_params["name"]))


@endpoint
async def delete_collection(request: Request) -> Response:
    node = _node(request)
    name = request.path_params["name"]
    key = _key(request)
    if (replay := _replayed(node, name, key)) is not None:
        return replay
    await node.drop_collection(name, key)
    return json_response({"deleted": True})


# -- records ------------------------------------------------------------------------
@endpoint
async def upsert_records(request: Request) -> Response:
    node = _node(request)
    name = request.path_params["name"]
    collection = node.collection(name)
    key = _key(request)
    if (replay := _replayed(node, name, key)) is not None:
        return replay
    raw = await read_body(request)
    if request.headers.get("content-type", "").startswith("application/octet-stream"):
        records = parse_raw_records(raw, request.headers.get("x-ids"), collection.spec)
    else:
        records = parse_records(parse_json(raw), collection.spec)
    await node.upsert(name, records, key)
    return json_response({"upserted": len(records), "version": collection.change_count})


@endpoint
async def get_record(request: Request) -> Response:
    node = _node(request)
    name, record_id = request.path_params["name"], request.path_params["id"]
    record = node.collection(name).get(record_id)
    if record is None:
        raise RecordNotFoundError(
            f"no record {record_id!r} in {name!r}", collection=name, id=record_id
        )
    return json_response(
        {"id": record.id, "vector": record.vector.tolist(), "metadata": record.metadata}
    )


async def _delete_ids(request: Request, ids: list[str]) -> Response:
    node = _node(request)
    name = request.path_params["name"]
    collection = node.collection(name)
    key = _key(request)
    if (replay := _replayed(node, name, key)) is not None:
        return replay
    outcome = await node.delete(name, ids, key)
    return json_response({"deleted": len(outcome.deleted), "version": collection.change_count})


@endpoint
async def delete_record(request: Request) -> Response:
    return await _delete_ids(request, [request.path_params["id"]])


@endpoint
async def delete_records(request: Request) -> Response:
    _node(request).collection(request.path_params["name"])
    return await _delete_ids(request, parse_ids(await read_json(request)))


# -- search ---------------------------------------------------------------------
@endpoint
async def search(request: Request) -> Response:
    node = _node(request)
    name = request.path_params["name"]
    collection = node.collection(name)
    search_request = parse_search(await read_json(request), collection.spec)
    if "text/event-stream" in request.headers.get("accept", ""):
        return sse.search_stream(node, name, search_request)
    hits = await node.search(name, search_request)
    return json_response(search_answer(hits, collection.change_count))


@endpoint
async def search_batch(request: Request) -> Response:
    node = _node(request)
    name = request.path_params["name"]
    collection = node.collection(name)
    queries = (await read_json(request)).get("queries")
    if not isinstance(queries, list) or not queries or len(queries) > MAX_BATCH_QUERIES:
        raise InvalidParameterError(
            f"queries must be a list of 1 to {MAX_BATCH_QUERIES} searches", field="queries"
        )
    requests = []
    for query in queries:
        if not isinstance(query, dict):
            raise InvalidParameterError("each query must be an object", field="queries")
        requests.append(parse_search(query, collection.spec))
    results = await asyncio.gather(*(node.search(name, r) for r in requests))
    return json_response(
        {
            "results": [{"hits": [hit_json(h) for h in hits]} for hits in results],
            "version": collection.change_count,
        }
    )


# -- subscriptions over SSE ---------------------------------------------------------
@endpoint
async def create_subscription(request: Request) -> Response:
    node = _node(request)
    name = request.path_params["name"]
    collection = node.collection(name)
    query, min_score = parse_subscription(await read_json(request), collection.spec)
    sub = await node.subscribe(name, query, min_score)

    def expire_unfollowed() -> None:
        if not sub.followed:
            node.subscriptions.close(sub.id, "never followed")

    asyncio.get_running_loop().call_later(UNFOLLOWED_TTL_SECONDS, expire_unfollowed)
    events = f"/v1/subscriptions/{sub.id}/events"
    return json_response({"id": sub.id, "collection": name, "events": events}, 201)


@endpoint
async def subscription_events(request: Request) -> Response:
    state = _state(request)
    node = state.require_node()
    sub = node.subscriptions.get(request.path_params["id"])
    return sse.subscription_stream(state, node, sub)


@endpoint
async def delete_subscription(request: Request) -> Response:
    node = _node(request)
    node.subscriptions.get(request.path_params["id"])
    node.subscriptions.close(request.path_params["id"], "deleted")
    return json_response({"deleted": True})


# Starlette tries routes in order: the hot paths (search, upsert) come first.
routes = [
    Route("/v1/collections/{name}/search", search, methods=["POST"]),
    Route("/v1/collections/{name}/records", upsert_records, methods=["POST"]),
    Route("/v1/collections/{name}/search/batch", search_batch, methods=["POST"]),
    Route("/v1/collections/{name}/records/delete", delete_records, methods=["POST"]),
    Route("/v1/collections/{name}/records/{id}", get_record, methods=["GET"]),
    Route("/v1/collections/{name}/records/{id}", delete_record, methods=["DELETE"]),
    Route("/v1/collections", list_collections, methods=["GET"]),
    Route("/v1/collections/{name}", put_collection, methods=["PUT"]),
    Route("/v1/collections/{name}", get_collection, methods=["GET"]),
    Route("/v1/collections/{name}", delete_collection, methods=["DELETE"]),
    Route("/v1/collections/{name}/subscriptions", create_subscription, methods=["POST"]),
    Route("/v1/subscriptions/{id}/events", subscription_events, methods=["GET"]),
    Route("/v1/subscriptions/{id}", delete_subscription, methods=["DELETE"]),
]
