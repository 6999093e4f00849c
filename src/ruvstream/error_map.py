"""The one error table: each error of the tree, as every wire carries it.

    error                      HTTP  WebSocket close         gRPC status
    RuvstreamError             500   1011 internal           INTERNAL
    BadRequestError            400   1008 policy             INVALID_ARGUMENT
    UnauthorizedError          401   1008 policy             UNAUTHENTICATED
    ForbiddenError             403   1008 policy             PERMISSION_DENIED
    NotFoundError              404   1008 policy             NOT_FOUND
    MethodNotAllowedError      405   1008 policy             UNIMPLEMENTED
    ConflictError              409   1008 policy             ABORTED
      CollectionExistsError    409   1008 policy             ALREADY_EXISTS
    PayloadTooLargeError       413   1008 policy             RESOURCE_EXHAUSTED
    UnsupportedMediaTypeError  415   1008 policy             INVALID_ARGUMENT
    UpgradeRequiredError       426   1008 policy             FAILED_PRECONDITION
    RateLimitedError           429   1008 policy             RESOURCE_EXHAUSTED
    UnavailableError           503   1013 try again later    UNAVAILABLE
    RequestTimeoutError        504   1013 try again later    DEADLINE_EXCEEDED
    SlowConsumerError          429   1008 policy             RESOURCE_EXHAUSTED
    ClientTimeoutError         408   1008 policy             DEADLINE_EXCEEDED
    InternalError              500   1011 internal           INTERNAL

A class takes the row of its nearest listed ancestor (its own, if listed),
the way httpx's ``map_httpcore_exceptions`` walks one family into another.
Node and router build every error answer from here: the HTTP status, one
``Retry-After`` rule, the JSON error body, the WebSocket error frame and
the close code. gRPC statuses are ``grpc.StatusCode`` names, kept as strings
(the gRPC transport, ``api/grpc/``, looks them up), so nothing here knows a
web framework or gRPC.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import orjson

from ruvstream.errors import (
    BadRequestError,
    ClientTimeoutError,
    CollectionExistsError,
    ConflictError,
    ForbiddenError,
    InternalError,
    MethodNotAllowedError,
    NotFoundError,
    PayloadTooLargeError,
    RateLimitedError,
    RequestTimeoutError,
    RuvstreamError,
    SlowConsumerError,
    UnauthorizedError,
    UnavailableError,
    UnsupportedMediaTypeError,
    UpgradeRequiredError,
)

__all__ = [
    "CLOSE_GOING_AWAY",
    "CLOSE_INTERNAL",
    "CLOSE_NORMAL",
    "CLOSE_POLICY",
    "CLOSE_TRY_AGAIN_LATER",
    "ERROR_TABLE",
    "WWW_AUTHENTICATE",
    "ErrorRow",
    "HttpError",
    "as_ruvstream_error",
    "class_for_status",
    "close_code",
    "error_body",
    "error_frame",
    "grpc_status",
    "http_error",
    "http_status",
    "retry_after_header",
    "row_for",
]

log = logging.getLogger(__name__)

CLOSE_NORMAL = 1000
CLOSE_GOING_AWAY = 1001
"""The node is shutting down: reconnect elsewhere or later."""
CLOSE_POLICY = 1008
CLOSE_INTERNAL = 1011
CLOSE_TRY_AGAIN_LATER = 1013


@dataclass(frozen=True, slots=True)
class ErrorRow:
    http: int
    close: int
    grpc: str


ERROR_TABLE: Mapping[type[RuvstreamError], ErrorRow] = {
    RuvstreamError: ErrorRow(500, CLOSE_INTERNAL, "INTERNAL"),
    BadRequestError: ErrorRow(400, CLOSE_POLICY, "INVALID_ARGUMENT"),
    UnauthorizedError: ErrorRow(401, CLOSE_POLICY, "UNAUTHENTICATED"),
    ForbiddenError: ErrorRow(403, CLOSE_POLICY, "PERMISSION_DENIED"),
    NotFoundError: ErrorRow(404, CLOSE_POLICY, "NOT_FOUND"),
    MethodNotAllowedError: ErrorRow(405, CLOSE_POLICY, "UNIMPLEMENTED"),
    ConflictError: ErrorRow(409, CLOSE_POLICY, "ABORTED"),
    CollectionExistsError: ErrorRow(409, CLOSE_POLICY, "ALREADY_EXISTS"),
    PayloadTooLargeError: ErrorRow(413, CLOSE_POLICY, "RESOURCE_EXHAUSTED"),
    UnsupportedMediaTypeError: ErrorRow(415, CLOSE_POLICY, "INVALID_ARGUMENT"),
    UpgradeRequiredError: ErrorRow(426, CLOSE_POLICY, "FAILED_PRECONDITION"),
    RateLimitedError: ErrorRow(429, CLOSE_POLICY, "RESOURCE_EXHAUSTED"),
    UnavailableError: ErrorRow(503, CLOSE_TRY_AGAIN_LATER, "UNAVAILABLE"),
    RequestTimeoutError: ErrorRow(504, CLOSE_TRY_AGAIN_LATER, "DEADLINE_EXCEEDED"),
    SlowConsumerError: ErrorRow(429, CLOSE_POLICY, "RESOURCE_EXHAUSTED"),
    ClientTimeoutError: ErrorRow(408, CLOSE_POLICY, "DEADLINE_EXCEEDED"),
    InternalError: ErrorRow(500, CLOSE_INTERNAL, "INTERNAL"),
}


def _roots_by_status() -> dict[int, type[RuvstreamError]]:
    """The reverse lookup a client needs (a status, no known code): the first
    class listed for each status, its family root. The base class is left out
    so that a bare 500 reads as InternalError."""
    roots: dict[int, type[RuvstreamError]] = {}
    for cls, row in ERROR_TABLE.items():
        if cls is not RuvstreamError:
            roots.setdefault(row.http, cls)
    return roots


_CLASS_FOR_STATUS = _roots_by_status()
_COME_BACK_LATER = frozenset({429, 503})
WWW_AUTHENTICATE = 'Bearer realm="ruvstream"'
"""Sent with every 401 (RFC 9110 asks for a challenge): the scheme keys use."""


def row_for(error: RuvstreamError | type[RuvstreamError]) -> ErrorRow:
    """The row of the error's nearest listed ancestor."""
    cls = error if isinstance(error, type) else type(error)
    for ancestor in cls.__mro__:
        row = ERROR_TABLE.get(ancestor)
        if row is not None:
            return row
    raise TypeError(f"{cls.__name__} is not a RuvstreamError")


def http_status(error: RuvstreamError | type[RuvstreamError]) -> int:
    return row_for(error).http


def close_code(error: RuvstreamError | type[RuvstreamError]) -> int:
    """The close code of a WebSocket refused or ended because of this error."""
    return row_for(error).close


def grpc_status(error: RuvstreamError | type[RuvstreamError]) -> str:
    """The ``grpc.StatusCode`` name for this error."""
    return row_for(error).grpc


def class_for_status(status: int) -> type[RuvstreamError]:
    """The family root for an HTTP status; any other 4xx is a bad request, else internal."""
    found = _CLASS_FOR_STATUS.get(status)
    if found is not None:
        return found
    return BadRequestError if 400 <= status < 500 else InternalError


def as_ruvstream_error(exc: BaseException) -> RuvstreamError:
    """Ours as it is; anything else is logged and answered as an internal error."""
    if isinstance(exc, RuvstreamError):
        return exc
    log.exception("unexpected error", exc_info=exc)
    return InternalError("internal error; the request was not completed")


def retry_after_header(error: RuvstreamError) -> str | None:
    """The one ``Retry-After`` rule: whole seconds, rounded up, at least 1.

    Present when the error says when to come back, and always on 429 and 503
    (1 s when the error does not say), so a client never has to guess.
    """
    if error.retry_after is not None:
        return str(max(1, math.ceil(error.retry_after)))
    return "1" if http_status(error) in _COME_BACK_LATER else None


def error_body(exc: BaseException) -> dict[str, Any]:
    """``{"error": {code, message, details?, retry_after?}}``: every HTTP error body."""
    return {"error": as_ruvstream_error(exc).to_payload()}


def error_frame(request_id: Any, exc: BaseException) -> dict[str, Any]:
    """The WebSocket error frame answering request ``request_id`` (None: no request)."""
    return {"id": request_id, "type": "error", "error": as_ruvstream_error(exc).to_payload()}


@dataclass(frozen=True, slots=True)
class HttpError:
    """An error answer for any HTTP stack: status, a JSON body, the headers it adds.

    ``headers`` holds what the error itself calls for (``retry-after``); the
    stack adds its own content type and length.
    """

    status: int
    body: bytes
    headers: tuple[tuple[str, str], ...] = ()
    media_type: str = "application/json"


def http_error(exc: BaseException) -> HttpError:
    error = as_ruvstream_error(exc)
    retry_after = retry_after_header(error)
    body = orjson.dumps({"error": error.to_payload()}, option=orjson.OPT_SERIALIZE_NUMPY)
    status = http_status(error)
    headers: tuple[tuple[str, str], ...] = ()
    if retry_after is not None:
        headers += (("retry-after", retry_after),)
    if status == 401:
        headers += (("www-authenticate", WWW_AUTHENTICATE),)
    return HttpError(status, body, headers)
