"""The one place errors become HTTP answers and WebSocket error frames."""

from __future__ import annotations

import logging
import math
from typing import Any

import orjson
from starlette.responses import Response

from ruvstream.errors import InternalError, RuvstreamError

__all__ = ["as_ruvstream_error", "error_frame", "error_response", "json_response"]

log = logging.getLogger(__name__)


def as_ruvstream_error(exc: BaseException) -> RuvstreamError:
    if isinstance(exc, RuvstreamError):
        return exc
    log.exception("unexpected error", exc_info=exc)
    return InternalError("internal error; the request was not completed")


def json_response(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(
        orjson.dumps(body, option=orjson.OPT_SERIALIZE_NUMPY),
        status_code=status,
        media_type="application/json",
        headers=headers,
    )


def error_response(exc: BaseException) -> Response:
    error = as_ruvstream_error(exc)
    headers = None
    if error.retry_after is not None:
        headers = {"Retry-After": str(max(1, math.ceil(error.retry_after)))}
    return json_response({"error": error.to_payload()}, error.status, headers)


def error_frame(request_id: Any, exc: BaseException) -> dict[str, Any]:
    return {"id": request_id, "type": "error", "error": as_ruvstream_error(exc).to_payload()}
