"""The OpenAPI 3.1 description of the public /v1 contract (see docs/api.md).

It states what the routes really take and answer, checked by a bounded
schemathesis run against a real node (tests/node/test_contract.py): the
sizes of ``config.InputLimits``, the id and collection-name patterns, the
filter language as a schema, every status a route can answer, and the
content types of its bodies. What no static schema can say: a vector's
length must be the collection's ``dim`` (else 400 ``dimension_mismatch``),
and metadata nests at most ``max_metadata_depth`` levels in at most
``max_metadata_bytes``. Binary upserts (``application/octet-stream`` with
``X-Ids``) and the WebSocket ``/v1/ws`` (a plain GET answers 426) are
described in docs/api.md: OpenAPI has no words for either.
"""

from __future__ import annotations

from typing import Any

from ruvstream import __version__
from ruvstream.config import InputLimits
from ruvstream.core.spec import MAX_DIM, MAX_K
from ruvstream.service.queries import MAX_EF

__all__ = ["OPENAPI"]

_LIMITS = InputLimits()
_FLOAT32_MAX = 3.4e38
_NAME_PATTERN = "^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$"
_ID_PATTERN = "^(?!\\.\\.?$)[^/\\x00-\\x1f\\x7f-\\x9f]+$"


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _json(schema: dict[str, Any]) -> dict[str, Any]:
    return {"application/json": {"schema": schema}}


def _body(schema: dict[str, Any]) -> dict[str, Any]:
    return {"required": True, "content": _json(schema)}


_ERROR = {"description": "error", "content": _json(_ref("ErrorBody"))}
_BUSY = (429, 503)
"""Admission may refuse any request: too many connections, or the node loading or draining."""
_BODY_ERRORS = (400, 413, 415)


def _answers(ok: int, schema: dict[str, Any], *errors: int, media: str = "") -> dict[str, Any]:
    content = _json(schema) if not media else {media: {"schema": schema}}
    out: dict[str, Any] = {str(ok): {"description": "success", "content": content}}
    for status in (*errors, *_BUSY):
        out[str(status)] = _ERROR
    return out


def _param(name: str, where: str, schema: dict[str, Any], required: bool) -> dict[str, Any]:
    return {"name": name, "in": where, "required": required, "schema": schema}


_NAME = _param("name", "path", {"type": "string", "pattern": _NAME_PATTERN}, True)
_RECORD_ID = _param("id", "path", _ref("RecordId"), True)
_SUB_ID = _param("id", "path", {"type": "string"}, True)
_KEY = _param("Idempotency-Key", "header", {"type": "string", "maxLength": 256}, False)
_OBJ: dict[str, Any] = {"type": "object"}
_INT: dict[str, Any] = {"type": "integer"}
_WRITTEN = {
    "type": "object",
    "required": ["version"],
    "properties": {
        "upserted": _INT,
        "deleted": _INT,
        "version": _INT,
        "duplicate": {"type": "boolean"},
    },
}
_SCALAR = {"type": ["string", "number", "boolean", "null"]}
_VALUES = {"type": "array", "items": _SCALAR, "maxItems": _LIMITS.max_filter_values}
_NUMBER = {"type": "number"}
_BRANCHES = {
    "type": "array",
    "minItems": 1,
    "maxItems": _LIMITS.max_filter_branches,
    "items": _ref("Filter"),
}

_FILTER_SCHEMAS: dict[str, Any] = {
    "Filter": {
        "description": "fields joined with AND, $and/$or/$not, dotted paths",
        "type": "object",
        "properties": {"$and": _BRANCHES, "$or": _BRANCHES, "$not": _ref("Filter")},
        "patternProperties": {"^[^$]": _ref("Condition")},
        "additionalProperties": False,
    },
    "Condition": {"oneOf": [_SCALAR, _ref("Operators")]},
    "Operators": {
        "type": "object",
        "minProperties": 1,
        "additionalProperties": False,
        "properties": {
            "$eq": _SCALAR,
            "$ne": _SCALAR,
            "$in": _VALUES,
            "$nin": _VALUES,
            "$gt": _NUMBER,
            "$gte": _NUMBER,
            "$lt": _NUMBER,
            "$lte": _NUMBER,
            "$exists": {"type": "boolean"},
        },
    },
}

_VECTOR = {
    "type": "array",
    "minItems": 1,
    "maxItems": MAX_DIM,
    "items": {"type": "number", "minimum": -_FLOAT32_MAX, "maximum": _FLOAT32_MAX},
    "description": "as many numbers as the collection's dim",
}
_SEARCH_FIELDS = {
    "vector": _VECTOR,
    "k": {"type": "integer", "minimum": 1, "maximum": MAX_K, "default": 10},
    "ef": {"type": ["integer", "null"], "minimum": 1, "maximum": MAX_EF},
    "filter": {"oneOf": [{"type": "null"}, _ref("Filter")]},
}

_SCHEMAS: dict[str, Any] = {
    "ErrorBody": {
        "type": "object",
        "required": ["error"],
        "properties": {
            "error": {
                "type": "object",
                "required": ["code", "message"],
                "properties": {
                    "code": {"type": "string"},
                    "message": {"type": "string"},
                    "details": _OBJ,
                    "retry_after": {"type": "number"},
                },
            }
        },
    },
    "CollectionSpec": {
        "type": "object",
        "required": ["dim"],
        "additionalProperties": False,
        "properties": {
            "dim": {"type": "integer", "minimum": 1, "maximum": MAX_DIM},
            "metric": {"enum": ["cosine", "l2", "ip"], "default": "cosine"},
            "m": {"type": "integer", "minimum": 4, "maximum": 128, "default": 16},
            "ef_construction": {"type": "integer", "minimum": 8, "maximum": 2048},
            "ef_search": {"type": "integer", "minimum": 1, "maximum": 4096},
            "index": {"enum": ["hnsw", "exact"], "default": "hnsw"},
        },
    },
    "CollectionInfo": {
        "type": "object",
        "required": ["name", "dim", "metric", "count", "version", "memory_bytes"],
        "properties": {
            "name": {"type": "string"},
            "dim": _INT,
            "metric": {"type": "string"},
            "m": _INT,
            "ef_construction": _INT,
            "ef_search": _INT,
            "index": {"type": "string"},
            "count": _INT,
            "version": _INT,
            "memory_bytes": _INT,
        },
    },
    "RecordId": {
        "type": "string",
        "minLength": 1,
        "maxLength": _LIMITS.max_id_length,
        "pattern": _ID_PATTERN,
        "description": "no slash or control character, not . or ..",
    },
    "Record": {
        "type": "object",
        "required": ["id", "vector"],
        "properties": {
            "id": _ref("RecordId"),
            "vector": _VECTOR,
            "metadata": {
                "type": ["object", "null"],
                "description": f"at most {_LIMITS.max_metadata_depth} levels deep and "
                f"{_LIMITS.max_metadata_bytes} bytes as JSON",
            },
        },
    },
    "Search": {
        "type": "object",
        "required": ["vector"],
        "properties": _SEARCH_FIELDS,
    },
    "Subscribe": {
        "type": "object",
        "required": ["vector"],
        "properties": {**_SEARCH_FIELDS, "min_score": _NUMBER},
        "not": {"required": ["k", "min_score"]},
    },
    "Hit": {
        "type": "object",
        "required": ["id", "score", "metadata"],
        "properties": {"id": {"type": "string"}, "score": _NUMBER, "metadata": _OBJ},
    },
    "Hits": {
        "type": "object",
        "required": ["hits", "version"],
        "properties": {"version": _INT, "hits": {"type": "array", "items": _ref("Hit")}},
    },
    **_FILTER_SCHEMAS,
}

_COLLECTIONS = {
    "type": "object",
    "properties": {"collections": {"type": "array", "items": _ref("CollectionInfo")}},
}
_UPSERT = {
    "type": "object",
    "required": ["records"],
    "properties": {
        "records": {
            "type": "array",
            "minItems": 1,
            "maxItems": _LIMITS.max_records_per_write,
            "items": _ref("Record"),
        }
    },
}
_DELETE = {
    "type": "object",
    "required": ["ids"],
    "properties": {
        "ids": {
            "type": "array",
            "minItems": 1,
            "maxItems": _LIMITS.max_records_per_write,
            "items": _ref("RecordId"),
        }
    },
}
_BATCH = {
    "type": "object",
    "required": ["queries"],
    "properties": {
        "queries": {
            "type": "array",
            "minItems": 1,
            "maxItems": _LIMITS.max_batch_queries,
            "items": _ref("Search"),
        }
    },
}
_BATCH_ANSWER = {
    "type": "object",
    "required": ["results", "version"],
    "properties": {
        "version": _INT,
        "results": {
            "type": "array",
            "items": {"type": "object", "properties": {"hits": {"type": "array"}}},
        },
    },
}
_SUBSCRIBED = {
    "type": "object",
    "required": ["id", "collection", "events"],
    "properties": {
        "id": {"type": "string"},
        "collection": {"type": "string"},
        "events": {"type": "string"},
    },
}
_SSE_EVENT = {
    "type": "object",
    "required": ["data"],
    "properties": {"event": {"type": "string"}, "data": {"type": "string"}},
}
"""OpenAPI 3.1 reads the schema of an event stream as the schema of each event."""
_SEARCH_ANSWERS = _answers(200, _ref("Hits"), *_BODY_ERRORS, 404)
_SEARCH_ANSWERS["200"]["content"]["text/event-stream"] = {"schema": _SSE_EVENT}
_CREATED = _answers(201, _ref("CollectionInfo"), *_BODY_ERRORS, 409)
_CREATED["200"] = {"description": "a replay (Idempotency-Key)", "content": _json(_OBJ)}
_TEXT = {"type": "string"}

_PATHS: dict[str, Any] = {
    "/v1/collections": {
        "get": {"summary": "List collections", "responses": _answers(200, _COLLECTIONS)},
    },
    "/v1/collections/{name}": {
        "parameters": [_NAME],
        "put": {
            "summary": "Create a collection",
            "parameters": [_KEY],
            "requestBody": _body(_ref("CollectionSpec")),
            "responses": _CREATED,
        },
        "get": {
            "summary": "Describe a collection",
            "responses": _answers(200, _ref("CollectionInfo"), 404),
        },
        "delete": {
            "summary": "Drop a collection",
            "parameters": [_KEY],
            "responses": _answers(200, _OBJ, 400, 404),
        },
    },
    "/v1/collections/{name}/records": {
        "parameters": [_NAME],
        "post": {
            "summary": "Upsert records (or float32 octet-stream rows with X-Ids: docs/api.md)",
            "parameters": [_KEY],
            "requestBody": _body(_UPSERT),
            "responses": _answers(200, _WRITTEN, *_BODY_ERRORS, 404),
        },
    },
    "/v1/collections/{name}/records/delete": {
        "parameters": [_NAME],
        "post": {
            "summary": "Delete records by id",
            "parameters": [_KEY],
            "requestBody": _body(_DELETE),
            "responses": _answers(200, _WRITTEN, *_BODY_ERRORS, 404),
        },
    },
    "/v1/collections/{name}/records/{id}": {
        "parameters": [_NAME, _RECORD_ID],
        "get": {"summary": "Get a record", "responses": _answers(200, _ref("Record"), 404)},
        "delete": {
            "summary": "Delete a record",
            "parameters": [_KEY],
            "responses": _answers(200, _WRITTEN, 400, 404),
        },
    },
    "/v1/collections/{name}/search": {
        "parameters": [_NAME],
        "post": {
            "summary": "Search (JSON, or SSE with Accept: text/event-stream)",
            "requestBody": _body(_ref("Search")),
            "responses": _SEARCH_ANSWERS,
        },
    },
    "/v1/collections/{name}/search/batch": {
        "parameters": [_NAME],
        "post": {
            "summary": "Many searches in one request",
            "requestBody": _body(_BATCH),
            "responses": _answers(200, _BATCH_ANSWER, *_BODY_ERRORS, 404),
        },
    },
    "/v1/collections/{name}/subscriptions": {
        "parameters": [_NAME],
        "post": {
            "summary": "Create a standing query (follow it over SSE)",
            "requestBody": _body(_ref("Subscribe")),
            "responses": _answers(201, _SUBSCRIBED, *_BODY_ERRORS, 404),
        },
    },
    "/v1/subscriptions/{id}/events": {
        "parameters": [_SUB_ID],
        "get": {
            "summary": "Stream a standing query's matches (SSE)",
            "responses": _answers(200, _SSE_EVENT, 404, media="text/event-stream"),
        },
    },
    "/v1/subscriptions/{id}": {
        "parameters": [_SUB_ID],
        "delete": {"summary": "End a standing query", "responses": _answers(200, _OBJ, 404)},
    },
    "/health": {"get": {"summary": "Liveness and load", "responses": _answers(200, _OBJ)}},
    "/ready": {"get": {"summary": "Readiness", "responses": _answers(200, _OBJ)}},
    "/metrics": {
        "get": {
            "summary": "Prometheus metrics",
            "responses": _answers(200, _TEXT, media="text/plain"),
        }
    },
    "/openapi.json": {
        "get": {"summary": "This document", "responses": _answers(200, _OBJ)},
    },
}

OPENAPI: dict[str, Any] = {
    "openapi": "3.1.0",
    "info": {"title": "ruvstream", "version": __version__},
    "components": {"schemas": _SCHEMAS},
    "paths": _PATHS,
}
