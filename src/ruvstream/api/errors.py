"""Starlette answers for the node: JSON bodies, and error answers from the error table."""

from __future__ import annotations

from typing import Any

import orjson
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response

from ruvstream.error_map import http_error
from ruvstream.errors import (
    BadRequestError,
    MethodNotAllowedError,
    NotFoundError,
    RuvstreamError,
)

__all__ = ["error_response", "json_response", "routing_error_response"]


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


async def routing_error_response(request: Request, exc: Exception) -> Response:
    """Starlette's own refusals (no such path, a method the path does not take) as
    the JSON error body every other error has, ``Allow`` kept."""
    status = exc.status_code if isinstance(exc, HTTPException) else 500
    headers = dict(exc.headers or {}) if isinstance(exc, HTTPException) else {}
    where = f"{request.method} {request.url.path}"
    error: RuvstreamError
    if status == 404:
        error = NotFoundError(f"no route {where}", path=request.url.path)
    elif status == 405:
        allow = [m.strip() for m in headers.get("Allow", "").split(",") if m.strip()]
        error = MethodNotAllowedError(f"{where}: this path takes {allow}", allow=allow)
    else:
        error = BadRequestError(str(getattr(exc, "detail", "bad request")))
    response = error_response(error)
    response.status_code = status
    response.headers.update(headers)
    return response
