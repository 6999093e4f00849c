"""The one error tree of ruvstream, shared by the server and the client.

    RuvstreamError                       code
    +-- BadRequestError                  bad_request
    |   +-- InvalidJsonError             invalid_json
    |   +-- InvalidVectorError           invalid_vector
    |   +-- DimensionMismatchError       dimension_mismatch
    |   +-- InvalidFilterError           invalid_filter
    |   +-- InvalidParameterError        invalid_parameter
    |   +-- UnknownOperationError        unknown_op
    +-- UnauthorizedError                unauthorized
    +-- UpgradeRequiredError             upgrade_required
    +-- ForbiddenError                   forbidden
    +-- NotFoundError                    not_found
    |   +-- CollectionNotFoundError      collection_not_found
    |   +-- RecordNotFoundError          record_not_found
    |   +-- SubscriptionNotFoundError    subscription_not_found
    +-- MethodNotAllowedError            method_not_allowed  (allow)
    +-- ConflictError                    conflict
    |   +-- CollectionExistsError        collection_exists
    +-- PayloadTooLargeError             payload_too_large
    +-- UnsupportedMediaTypeError        unsupported_media_type
    +-- RateLimitedError                 rate_limited  (retry_after)
    +-- UnavailableError                 unavailable   (retry_after)
    +-- RequestTimeoutError              timeout
    +-- SlowConsumerError                slow_consumer
    +-- ClientTimeoutError               client_timeout
    +-- InternalError                    internal

Every error carries a stable machine-readable ``code`` and structured
``details``. What each becomes on a wire (HTTP status and ``Retry-After``,
WebSocket close code, gRPC status) is one table, ``ruvstream.error_map``;
``from_payload`` turns a server answer back into the same class on the
client side.
"""

from __future__ import annotations

from typing import Any, ClassVar

__all__ = [
    "BadRequestError",
    "ClientTimeoutError",
    "CollectionExistsError",
    "CollectionNotFoundError",
    "ConflictError",
    "DimensionMismatchError",
    "ForbiddenError",
    "InternalError",
    "InvalidFilterError",
    "InvalidJsonError",
    "InvalidParameterError",
    "InvalidVectorError",
    "MethodNotAllowedError",
    "NotFoundError",
    "PayloadTooLargeError",
    "RateLimitedError",
    "RecordNotFoundError",
    "RequestTimeoutError",
    "RuvstreamError",
    "SlowConsumerError",
    "SubscriptionNotFoundError",
    "UnauthorizedError",
    "UnavailableError",
    "UnknownOperationError",
    "UnsupportedMediaTypeError",
    "UpgradeRequiredError",
    "error_class_for",
    "from_payload",
]


class RuvstreamError(Exception):
    """Base of every ruvstream error; ``code`` is stable, ``message`` is for people."""

    code: ClassVar[str] = "error"

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

    @property
    def status(self) -> int:
        """The HTTP status the error table gives this error."""
        # Imported here: the table is built from these classes.
        from ruvstream.error_map import http_status

        return http_status(self)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.message!r}, code={self.code!r})"


class BadRequestError(RuvstreamError):
    code = "bad_request"


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


class UpgradeRequiredError(RuvstreamError):
    """A plain HTTP request to a route that speaks only WebSocket."""

    code = "upgrade_required"


class ForbiddenError(RuvstreamError):
    """A real API key used beyond its scopes or collection patterns."""

    code = "forbidden"


class NotFoundError(RuvstreamError):
    code = "not_found"


class CollectionNotFoundError(NotFoundError):
    code = "collection_not_found"


class RecordNotFoundError(NotFoundError):
    code = "record_not_found"


class SubscriptionNotFoundError(NotFoundError):
    code = "subscription_not_found"


class MethodNotAllowedError(RuvstreamError):
    """The path exists, not with this method; ``details["allow"]`` lists those it takes."""

    code = "method_not_allowed"


class ConflictError(RuvstreamError):
    code = "conflict"


class CollectionExistsError(ConflictError):
    code = "collection_exists"


class PayloadTooLargeError(RuvstreamError):
    code = "payload_too_large"


class UnsupportedMediaTypeError(RuvstreamError):
    """A body in a content type the route does not take (JSON routes take JSON)."""

    code = "unsupported_media_type"


class RateLimitedError(RuvstreamError):
    code = "rate_limited"


class UnavailableError(RuvstreamError):
    code = "unavailable"


class RequestTimeoutError(RuvstreamError):
    code = "timeout"


class SlowConsumerError(RuvstreamError):
    """A stream whose reader fell behind: its outbound queue filled, so it was closed."""

    code = "slow_consumer"


class ClientTimeoutError(RuvstreamError):
    """The client took too long to send its request's head or body."""

    code = "client_timeout"


class InternalError(RuvstreamError):
    code = "internal"


def _all_subclasses(cls: type[RuvstreamError]) -> list[type[RuvstreamError]]:
    found: list[type[RuvstreamError]] = []
    for sub in cls.__subclasses__():
        found.append(sub)
        found.extend(_all_subclasses(sub))
    return found


_CLASSES: list[type[RuvstreamError]] = [RuvstreamError, *_all_subclasses(RuvstreamError)]
_BY_CODE: dict[str, type[RuvstreamError]] = {error.code: error for error in _CLASSES}


def error_class_for(code: str | None, status: int | None = None) -> type[RuvstreamError]:
    """The most specific class for a server code, else for an HTTP status."""
    if code and code in _BY_CODE:
        return _BY_CODE[code]
    if status is None:
        return InternalError
    from ruvstream.error_map import class_for_status  # the table is built from these classes

    return class_for_status(status)


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
