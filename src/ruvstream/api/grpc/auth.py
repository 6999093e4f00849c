"""The one place gRPC calls are authorised: ``authorization: Bearer <key>`` metadata.

The node's ``Guard`` (``--api-keys``) checks a gRPC call as it checks HTTP and
WebSocket requests: the key must be one it issued (UNAUTHENTICATED otherwise),
and each search, upsert, delete or subscribe must be within the key's scopes
and collection patterns (PERMISSION_DENIED), the same rule as a WebSocket
frame. Without keys every call may go ahead.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from ruvstream.auth import Guard, Principal, authorize, frame_access

__all__ = ["AUTHORIZATION_KEY", "bearer_token", "call_principal", "check_op"]

AUTHORIZATION_KEY = "authorization"


def bearer_token(metadata: Iterable[tuple[str, Any]] | None) -> str | None:
    """The token of the call's ``authorization: Bearer <token>`` entry, if it has one."""
    for key, value in metadata or ():
        if key.lower() != AUTHORIZATION_KEY or not isinstance(value, str):
            continue
        scheme, _, token = value.partition(" ")
        if scheme.lower() == "bearer" and token.strip():
            return token.strip()
    return None


def call_principal(
    guard: Guard | None, metadata: Iterable[tuple[str, Any]] | None
) -> Principal | None:
    """Who the call acts as (None without keys); raises ``UnauthorizedError``."""
    if guard is None:
        return None
    return guard.authenticate(bearer_token(metadata))


def check_op(principal: Principal | None, op: str, collection: str) -> None:
    """Raise ``ForbiddenError`` unless ``principal`` may run ``op`` on ``collection``."""
    if principal is not None:
        authorize(principal, frame_access(op, collection))
