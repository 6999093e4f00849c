"""API keys, scopes and the one check node and router make on every request.

keys.py        the key file (hashes only), new keys, their ids
access.py      what each route and WebSocket frame needs (pure)
guard.py       the check: credentials -> Principal, or 401 / 403
middleware.py  the check as ASGI middleware, the WebSocket Origin rule
"""

from __future__ import annotations

from .access import OPEN_PATHS, Access, frame_access, request_access
from .guard import Guard, Principal, authorize, credentials, frame_refusal
from .keys import (
    KEY_PREFIX,
    SCOPES,
    KeyEntry,
    KeyFileError,
    digest,
    load_key_file,
    new_key,
    parse_key_id,
    parse_scopes,
    write_key_file,
)
from .middleware import PRINCIPAL, AuthMiddleware, OriginPolicy, refuse

__all__ = [
    "KEY_PREFIX",
    "OPEN_PATHS",
    "PRINCIPAL",
    "SCOPES",
    "Access",
    "AuthMiddleware",
    "Guard",
    "KeyEntry",
    "KeyFileError",
    "OriginPolicy",
    "Principal",
    "authorize",
    "credentials",
    "digest",
    "frame_access",
    "frame_refusal",
    "load_key_file",
    "new_key",
    "parse_key_id",
    "parse_scopes",
    "refuse",
    "request_access",
    "write_key_file",
]
