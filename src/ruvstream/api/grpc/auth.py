"""The one place gRPC calls are authorised: ``authorization: Bearer <token>`` metadata.

No check is wired today: ``BearerCheck`` is the hook a key store plugs in
(``start_grpc(..., authorize=check)``). It gets the bearer token, or None
when the call carried none, and raises ``UnauthorizedError`` to refuse the
call, which then ends with UNAUTHENTICATED before any work is done.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from typing import Any

__all__ = ["AUTHORIZATION_KEY", "BearerCheck", "bearer_token"]

AUTHORIZATION_KEY = "authorization"

BearerCheck = Callable[[str | None], Awaitable[None]]
"""Raises ``UnauthorizedError`` unless the token (None: none sent) may call the node."""


def bearer_token(metadata: Iterable[tuple[str, Any]] | None) -> str | None:
    """The token of the call's ``authorization: Bearer <token>`` entry, if it has one."""
    for key, value in metadata or ():
        if key.lower() != AUTHORIZATION_KEY or not isinstance(value, str):
            continue
        scheme, _, token = value.partition(" ")
        if scheme.lower() == "bearer" and token.strip():
            return token.strip()
    return None
