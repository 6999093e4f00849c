"""Error answers the router writes itself, in the API's error shape."""

from __future__ import annotations

import orjson
from starlette.types import Send

from ruvstream.errors import RuvstreamError

from .router import retry_after_header

__all__ = ["send_error"]


async def send_error(send: Send, exc: RuvstreamError, extra: dict[str, str] | None = None) -> None:
    """``{"error": {...}}`` with the error's status; 429/503 carry ``Retry-After``."""
    body = orjson.dumps({"error": exc.to_payload()})
    headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
    ]
    if exc.status in (429, 503):
        headers.append((b"retry-after", retry_after_header(exc.retry_after).encode()))
    for name, value in (extra or {}).items():
        headers.append((name.encode(), value.encode()))
    await send({"type": "http.response.start", "status": exc.status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
