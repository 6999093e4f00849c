"""The one error tree of ruvstream, shared by the server and the client.

    RuvstreamError                       code          HTTP
    +-- BadRequestError                  bad_request   400
    |   +-- InvalidJsonError             invalid_json
    |   +-- InvalidVectorError           invalid_vector
    |   +-- DimensionMismatchError       dimension_mismatch
    |   +-- InvalidFilterError           invalid_filter
    |   +-- InvalidParameterError        invalid_parameter
    |   +-- UnknownOperationError        unknown_op
    +-- UnauthorizedError                unauthorized  401
    +-- NotFoundError                    not_found     404
    |   +-- CollectionNotFoundError      collection_not_found
    |   +-- RecordNotFoundError          record_not_found
    |   +-- SubscriptionNotFoundError    subscription_not_found
    +-- ConflictError                    conflict      409
    |   +-- CollectionExistsError        collection_exists
    +-- PayloadTooLargeError             payload_too_large 413
    +-- RateLimitedError                 rate_limited  429  (retry_after)
    +-- UnavailableError                 unavailable   503  (retry_after)
    +-- RequestTimeoutError              timeout       504
    +-- InternalError                    internal      500

Every error carries a stable machine-readable ``code`` and structured
``details``; ``api/errors.py`` is the only place that turns them into HTTP
statuses and WebSocket frames, and ``from_payload`` turns a server answer back
into the same class on the client side.
"""

from __future__ import annotations

from typing import Any, ClassVar

__all__ = [
    "BadRequestError",
    "CollectionExistsError",
    "CollectionNotFoundError",
    "ConflictError",
    "DimensionMismatchError",
    "InternalError",
    "InvalidFilterError",
    "InvalidJsonError",
    "InvalidParameterError",
    "InvalidVectorError",
    "NotFoundError",
    "PayloadTooLargeError",
    "RateLimitedError",
    "RecordNotFoundError",
    "RequestTimeoutError",
    "RuvstreamError",
    "SubscriptionNotFoundError",
    "UnauthorizedError",
    "UnavailableError",
    "UnknownOperationError",
    "error_class_for",
    "from_payload",
]


class RuvstreamError(Exception):
    """Base of every ruvstream error; ``code`` is stable, ``message`` is for people."""

    code: ClassVar[str] = "error"
    status: ClassVar[int] = 500

    def __init__(self, message: str, *, retry_after: float | None = None, **details: Any) -> None:
        super().__init__(message)
        self.message = message
        self.retry_after = retry_after
        self.details = details

    def to_payload(self) -> dict[str, Any]:
        body: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.details:
            body["details"] = self.details
        if self.retry_after is not None:
            body["retry_after"] = self.retry_after
        return body

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.message!r}, code={self.code!r})"


class BadRequestError(RuvstreamError):
    code = "bad_request"
    status = 400


class InvalidJsonError(BadRequestError):
    code = "invalid_json"


class InvalidVectorError(BadRequestError):
    code = "invalid_vector"


class DimensionMismatchError(InvalidVectorError):
    code = "dimension_mismatch"


class InvalidFilterError(BadRequestError):
    code = "invalid_filter"


class InvalidParameterError(BadRequestError):
    code = "invalid_parameter"


class UnknownOperationError(BadRequestError):
    code = "unknown_op"


class UnauthorizedError(RuvstreamError):
    """The request carries no API key, or one nobody issued."""

    code = "unauthorized"
    status = 401


class NotFoundError(RuvstreamError):
    code = "not_found"
    status = 404


class CollectionNotFoundError(NotFoundError):
    code = "collection_not_found"


class RecordNotFoundError(NotFoundError):
    code = "record_not_found"


class SubscriptionNotFoundError(NotFoundError):
    code = "subscription_not_found"


class ConflictError(RuvstreamError):
    code = "conflict"
    status = 409


class CollectionExistsError(ConflictError):
    code = "collection_exists"


class PayloadTooLargeError(RuvstreamError):
    code = "payload_too_large"
    status = 413


class RateLimitedError(RuvstreamError):
    code = "rate_limited"
    status = 429


class UnavailableError(RuvstreamError):
    code = "unavailable"
    status = 503


class RequestTimeoutError(RuvstreamError):
    code = "timeout"
    status = 504


class InternalError(RuvstreamError):
    code = "internal"
    status = 500


def _all_subclasses(cls: type[RuvstreamError]) -> list[type[RuvstreamError]]:
    found: list[type[RuvstreamError]] = []
    for sub in cls.__subclasses__():
        found.append(sub)
        found.extend(_all_subclasses(sub))
    return found


_CLASSES: list[type[RuvstreamError]] = [RuvstreamError, *_all_subclasses(RuvstreamError)]
_BY_CODE: dict[str, type[RuvstreamError]] = {error.code: error for error in _CLASSES}
_BY_STATUS: dict[int, type[RuvstreamError]] = {
    400: BadRequestError,
    401: UnauthorizedError,
    404: NotFoundError,
    409: ConflictError,
    413: PayloadTooLargeError,
    429: RateLimitedError,
    503: UnavailableError,
    504: RequestTimeoutError,
}


def error_class_for(code: str | None, status: int | None = None) -> type[RuvstreamError]:
    """The most specific class for a server code, else for an HTTP status."""
    if code and code in _BY_CODE:
        return _BY_CODE[code]
    if status is not None:
        if status in _BY_STATUS:
            return _BY_STATUS[status]
        if 400 <= status < 500:
            return BadRequestError
    return InternalError


def from_payload(payload: dict[str, Any], status: int | None = None) -> RuvstreamError:
    """Rebuild the error a server described in an error body or frame."""
    cls = error_class_for(payload.get("code"), status)
    retry = payload.get("retry_after")
    details = payload.get("details") or {}
    return cls(
        str(payload.get("message", cls.code)),
        retry_after=float(retry) if retry is not None else None,
        **details,
    )
