"""Starlette answers for the node: JSON bodies, and error answers from the error table."""

from __future__ import annotations

from typing import Any

import orjson
from starlette.responses import Response

from ruvstream.error_map import http_error

__all__ = ["error_response", "json_response"]


def json_response(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(
        orjson.dumps(body, option=orjson.OPT_SERIALIZE_NUMPY),
        status_code=status,
        media_type="application/json",
        headers=headers,
    )


def error_response(exc: BaseException) -> Response:
    """The error's answer as ``ruvstream.error_map`` writes it (status, body, Retry-After)."""
    answer = http_error(exc)
    return Response(
        answer.body,
        status_code=answer.status,
        media_type=answer.media_type,
        headers=dict(answer.headers) or None,
    )
