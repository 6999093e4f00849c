"""Error answers the router writes itself, as the error table writes them for the node."""

from __future__ import annotations

from starlette.types import Send

from ruvstream.error_map import http_error
from ruvstream.errors import RuvstreamError

__all__ = ["send_error"]


async def send_error(send: Send, exc: RuvstreamError, extra: dict[str, str] | None = None) -> None:
    """``{"error": {...}}`` with the error's status and ``Retry-After`` (see ``error_map``)."""
    answer = http_error(exc)
    headers = [
        (b"content-type", answer.media_type.encode()),
        (b"content-length", str(len(answer.body)).encode()),
    ]
    for name, value in (*answer.headers, *(extra or {}).items()):
        headers.append((name.encode(), value.encode()))
    await send({"type": "http.response.start", "status": answer.status, "headers": headers})
    await send({"type": "http.response.body", "body": answer.body})
