"""The OpenAPI 3.1 description of the public /v1 contract (see docs/api.md)."""

from __future__ import annotations

from typing import Any

from ruvstream import __version__

__all__ = ["OPENAPI"]


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _body(schema: dict[str, Any]) -> dict[str, Any]:
    return {"required": True, "content": {"application/json": {"schema": schema}}}


def _answers(ok: int, schema: dict[str, Any], *errors: int) -> dict[str, Any]:
    out: dict[str, Any] = {
        str(ok): {"description": "success", "content": {"application/json": {"schema": schema}}}
    }
    for status in (*errors, 429, 503):
        out[str(status)] = {
            "description": "error",
            "content": {"application/json": {"schema": _ref("ErrorBody")}},
        }
    return out


_NAME = {"name": "name", "in": "path", "required": True, "schema": {"type": "string"}}
_ID = {"name": "id", "in": "path", "required": True, "schema": {"type": "string"}}
_KEY = {"name": "Idempotency-Key", "in": "header", "required": False, "schema": {"type": "string"}}
_OBJ = {"type": "object"}

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
        "properties": {
            "dim": {"type": "integer", "minimum": 1, "maximum": 4096},
            "metric": {"enum": ["cosine", "l2", "ip"]},
            "m": {"type": "integer"},
            "ef_construction": {"type": "integer"},
            "ef_search": {"type": "integer"},
            "index": {"enum": ["hnsw", "exact"], "default": "hnsw"},
        },
    },
    "CollectionInfo": {
        "type": "object",
        "properties": {
            "name": {"type": "string"},
            "dim": {"type": "integer"},
            "metric": {"type": "string"},
            "count": {"type": "integer"},
            "version": {"type": "integer"},
            "memory_bytes": {"type": "integer"},
        },
    },
    "Record": {
        "type": "object",
        "required": ["id", "vector"],
        "properties": {
            "id": {"type": "string"},
            "vector": {"type": "array", "items": {"type": "number"}},
            "metadata": _OBJ,
        },
    },
    "Search": {
        "type": "object",
        "required": ["vector"],
        "properties": {
            "vector": {"type": "array", "items": {"type": "number"}},
            "k": {"type": "integer", "minimum": 1, "maximum": 1000},
            "ef": {"type": "integer"},
            "filter": _OBJ,
        },
    },
    "Hits": {
        "type": "object",
        "properties": {
            "version": {"type": "integer"},
            "hits": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {
                        "id": {"type": "string"},
                        "score": {"type": "number"},
                        "metadata": _OBJ,
                    },
                },
            },
        },
    },
}

OPENAPI: dict[str, Any] = {
    "openapi": "3.1.0",
    "info": {"title": "ruvstream", "version": __version__},
    "components": {"schemas": _SCHEMAS},
    "paths": {
        "/v1/collections": {
            "get": {
                "summary": "List collections",
                "responses": _answers(
                    200,
                    {
                        "type": "object",
                        "properties": {
                            "collections": {"type": "array", "items": _ref("CollectionInfo")}
                        },
                    },
                ),
            }
        },
        "/v1/collections/{name}": {
            "parameters": [_NAME],
            "put": {
                "summary": "Create a collection",
                "parameters": [_KEY],
                "requestBody": _body(_ref("CollectionSpec")),
                "responses": _answers(201, _ref("CollectionInfo"), 400, 409),
            },
            "get": {
                "summary": "Describe a collection",
                "responses": _answers(200, _ref("CollectionInfo"), 404),
            },
            "delete": {
                "summary": "Drop a collection",
                "parameters": [_KEY],
                "responses": _answers(200, _OBJ, 404),
            },
        },
        "/v1/collections/{name}/records": {
            "parameters": [_NAME],
            "post": {
                "summary": "Upsert records (JSON, or float32 octet-stream with X-Ids)",
                "parameters": [_KEY],
                "requestBody": _body(
                    {
                        "type": "object",
                        "required": ["records"],
                        "properties": {"records": {"type": "array", "items": _ref("Record")}},
                    }
                ),
                "responses": _answers(200, _OBJ, 400, 404, 413),
            },
        },
        "/v1/collections/{name}/records/delete": {
            "parameters": [_NAME],
            "post": {
                "summary": "Delete records by id",
                "parameters": [_KEY],
                "requestBody": _body(
                    {
                        "type": "object",
                        "properties": {"ids": {"type": "array", "items": {"type": "string"}}},
                    }
                ),
                "responses": _answers(200, _OBJ, 400, 404),
            },
        },
        "/v1/collections/{name}/records/{id}": {
            "parameters": [_NAME, _ID],
            "get": {"summary": "Get a record", "responses": _answers(200, _ref("Record"), 404)},
            "delete": {
                "summary": "Delete a record",
                "parameters": [_KEY],
                "responses": _answers(200, _OBJ, 404),
            },
        },
        "/v1/collections/{name}/search": {
            "parameters": [_NAME],
            "post": {
                "summary": "Search (JSON, or SSE with Accept: text/event-stream)",
                "requestBody": _body(_ref("Search")),
                "responses": _answers(200, _ref("Hits"), 400, 404),
            },
        },
        "/v1/collections/{name}/search/batch": {
            "parameters": [_NAME],
            "post": {
                "summary": "Many searches in one request",
                "requestBody": _body(
                    {
                        "type": "object",
                        "properties": {"queries": {"type": "array", "items": _ref("Search")}},
                    }
                ),
                "responses": _answers(200, _OBJ, 400, 404),
            },
        },
        "/v1/collections/{name}/subscriptions": {
            "parameters": [_NAME],
            "post": {
                "summary": "Create a standing query (follow it over SSE)",
                "requestBody": _body(_ref("Search")),
                "responses": _answers(201, _OBJ, 400, 404),
            },
        },
        "/v1/subscriptions/{id}/events": {
            "parameters": [_ID],
            "get": {
                "summary": "Stream a standing query's matches (SSE)",
                "responses": _answers(200, {"type": "string"}, 404),
            },
        },
        "/v1/subscriptions/{id}": {
            "parameters": [_ID],
            "delete": {"summary": "End a standing query", "responses": _answers(200, _OBJ, 404)},
        },
        "/v1/ws": {
            "get": {
                "summary": "WebSocket: multiplexed requests and pushed events",
                "responses": {"101": {"description": "switching protocols"}},
            }
        },
        "/health": {"get": {"summary": "Liveness and load", "responses": _answers(200, _OBJ)}},
        "/ready": {"get": {"summary": "Readiness", "responses": _answers(200, _OBJ)}},
        "/metrics": {
            "get": {
                "summary": "Prometheus metrics",
                "responses": {"200": {"description": "text exposition"}},
            }
        },
    },
}
