"""The one check every entry makes: credentials in, a principal or a refusal out.

``Guard.check(scope)`` takes an ASGI scope (or anything with its ``type``,
``method``, ``path``, ``headers`` and ``query_string``) and returns the
caller's ``Principal``, None for a route that needs no key, or raises
``UnauthorizedError`` (401: no key, or one nobody issued) or
``ForbiddenError`` (403: a real key out of its scopes or collections). The
node's ASGI middleware, its HTTP fast path, its WebSocket upgrade and the
router all call it; nothing else decides who may do what.

Credentials: ``Authorization: Bearer <key>`` or ``X-API-Key: <key>``; a
WebSocket upgrade may also carry ``?api_key=<key>``, because a browser
cannot set headers on one.
"""

from __future__ import annotations

import fnmatch
import hmac
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

from ruvstream.errors import ForbiddenError, UnauthorizedError

from .access import OPEN_PATHS, Access, frame_access, request_access
from .keys import KeyEntry, digest, load_key_file, parse_key_id

__all__ = ["Guard", "Principal", "authorize", "credentials", "frame_refusal"]

_FREE_OPS = frozenset({"ping", "unsubscribe"})
"""Frames that touch no collection: an unsubscribe names a subscription of this socket."""


@dataclass(frozen=True, slots=True)
class Principal:
    """Who a request acts as: the key's id, name, scopes, collections and tier."""

    id: str
    name: str
    scopes: frozenset[str]
    collections: tuple[str, ...] | None
    tier: str

    def may(self, access: Access) -> bool:
        if access.scope is not None and not ("admin" in self.scopes or access.scope in self.scopes):
            return False
        if self.collections is None:
            return True
        if access.every_collection:
            return False
        name = access.collection
        return name is None or any(fnmatch.fnmatchcase(name, p) for p in self.collections)


def credentials(headers: Iterable[tuple[bytes, bytes]], query: bytes = b"") -> str | None:
    """The key a request presents: a header, else (WebSocket) the ``api_key`` query."""
    for name, value in headers:
        if name == b"x-api-key":
            return value.decode("latin-1").strip()
        if name == b"authorization" and value[:7].lower() == b"bearer ":
            return value[7:].decode("latin-1").strip()
    if query and b"api_key=" in query:
        for field, found in parse_qsl(query.decode("latin-1")):
            if field == "api_key":
                return found
    return None


class Guard:
    """The issued keys, by id; built once at start-up from the key file."""

    def __init__(self, entries: Iterable[KeyEntry], *, open_metrics: bool = False) -> None:
        """``open_metrics``: ``/metrics`` needs no key (a scraper that cannot send one)."""
        self._entries = {e.id: e for e in entries}
        self._open = OPEN_PATHS | {"/metrics"} if open_metrics else OPEN_PATHS
        # Made once: the fast HTTP path checks every search.
        self._principals = {
            e.id: Principal(e.id, e.name, e.scopes, e.collections, e.tier)
            for e in self._entries.values()
        }

    @classmethod
    def from_file(cls, path: Path, *, open_metrics: bool = False) -> Guard:
        entries, _ = load_key_file(path)
        return cls(entries, open_metrics=open_metrics)

    def __len__(self) -> int:
        return len(self._entries)

    def authenticate(self, key: str | None) -> Principal:
        if not key:
            raise UnauthorizedError(
                "an API key is required (Authorization: Bearer <key> or X-API-Key)"
            )
        key_id = parse_key_id(key)
        entry = self._entries.get(key_id) if key_id is not None else None
        # Compared even when the id is unknown, so both refusals take the same time.
        expected = entry.hash if entry is not None else digest("")
        if not hmac.compare_digest(digest(key), expected) or entry is None:
            raise UnauthorizedError("unknown API key")
        return self._principals[entry.id]

    def check(self, scope: Mapping[str, Any]) -> Principal | None:
        """The principal of this request, None if it needs none; raises 401/403."""
        websocket = scope["type"] == "websocket"
        access = request_access(scope.get("method", "GET"), scope["path"], websocket, self._open)
        if access is None:
            return None
        query = scope.get("query_string", b"") if websocket else b""
        principal = self.authenticate(credentials(scope["headers"], query))
        return authorize(principal, access)


def authorize(principal: Principal, access: Access) -> Principal:
    """The principal, if its key covers ``access``; else ``ForbiddenError``."""
    if principal.may(access):
        return principal
    if access.every_collection:
        where = "every collection"
    elif access.collection:
        where = f"collection {access.collection!r}"
    else:
        where = "this route"
    raise ForbiddenError(
        f"key {principal.name!r} lacks {access.scope or 'access'} on {where}",
        scope=access.scope,
        collection=access.collection,
    )


def frame_refusal(principal: Principal | None, frame: Mapping[str, Any]) -> ForbiddenError | None:
    """Why this WebSocket frame may not run for ``principal`` (None: no keys, or it may)."""
    op = frame.get("op")
    if principal is None or op in _FREE_OPS:
        return None
    try:
        authorize(principal, frame_access(op, frame.get("collection")))
    except ForbiddenError as exc:
        return exc
    return None
