"""What each request needs: a scope, and the collection it touches (pure, no I/O).

    route                                             needs
    GET  /health, /ready, /openapi.json               nothing (probes, the contract)
    GET  /metrics                                     read
    GET  /v1/collections                              read
    GET  /v1/collections/{c}[/records/{id}]           read on c
    POST /v1/collections/{c}/search[/batch]           read on c
    POST /v1/collections/{c}/subscriptions            read on c
    GET|DELETE /v1/subscriptions/{id}[/events]        read
    POST /v1/collections/{c}/records[/delete]         write on c
    DELETE /v1/collections/{c}/records/{id}           write on c
    PUT|DELETE /v1/collections/{c}                    admin on c
    /v1/replication/...                               admin on every collection
    /admin/... (the router's degradation plan)        admin on every collection
    WebSocket /v1/ws                                  a valid key; each frame as its op
    anything else                                     read (then 404 or 405)

``admin`` includes ``read`` and ``write``. Node and router use this one map.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["OPEN_PATHS", "Access", "frame_access", "request_access"]

OPEN_PATHS = frozenset({"/health", "/ready", "/openapi.json"})
_WRITE_OPS = frozenset({"upsert", "delete"})


@dataclass(frozen=True, slots=True)
class Access:
    """A scope (None: only a valid key) and the collection (None: not one collection)."""

    scope: str | None
    collection: str | None = None
    every_collection: bool = False
    """True for peer routes: a key limited to some collections may not use them."""


_ANY_KEY = Access(None)
_READ = Access("read")


def request_access(
    method: str, path: str, websocket: bool = False, open_paths: frozenset[str] = OPEN_PATHS
) -> Access | None:
    """What the request needs; None when it needs no key at all."""
    if websocket:
        return _ANY_KEY
    if path in open_paths:
        return None
    # Empty segments dropped: "/v1/collections/c/" asks what "/v1/collections/c" does.
    parts = [part for part in path.split("/") if part]
    if parts[:2] == ["v1", "replication"] or parts[:1] == ["admin"]:
        return Access("admin", every_collection=True)
    if len(parts) < 3 or parts[:2] != ["v1", "collections"]:
        return _READ  # /metrics, /v1/collections, /v1/subscriptions/..., unknown paths
    collection = parts[2]  # the server decoded the path once already
    rest = parts[3:]
    if not rest:
        scope = "admin" if method in ("PUT", "DELETE") else "read"
    elif rest[0] == "records" and (method == "DELETE" or (method == "POST" and len(rest) <= 2)):
        scope = "write"
    else:
        scope = "read"
    return Access(scope, collection)


def frame_access(op: object, collection: object) -> Access:
    """What one WebSocket frame needs: write for upsert and delete, read for the rest."""
    name = collection if isinstance(collection, str) else None
    return Access("write" if op in _WRITE_OPS else "read", name)
