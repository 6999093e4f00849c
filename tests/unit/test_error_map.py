"""The error table: every error of the tree has one answer on every wire."""

from __future__ import annotations

import orjson
import pytest

from ruvstream import errors
from ruvstream.client.errors import ClientTimeoutError, ConnectError
from ruvstream.error_map import (
    CLOSE_INTERNAL,
    CLOSE_POLICY,
    CLOSE_TRY_AGAIN_LATER,
    ERROR_TABLE,
    class_for_status,
    close_code,
    error_body,
    error_frame,
    grpc_status,
    http_error,
    http_status,
    retry_after_header,
)

ERROR_CLASSES = [getattr(errors, n) for n in errors.__all__ if n.endswith("Error")]
# grpc.StatusCode names (grpc is not a dependency yet).
GRPC_CODES = {
    "OK", "CANCELLED", "UNKNOWN", "INVALID_ARGUMENT", "DEADLINE_EXCEEDED", "NOT_FOUND",
    "ALREADY_EXISTS", "PERMISSION_DENIED", "RESOURCE_EXHAUSTED", "FAILED_PRECONDITION",
    "ABORTED", "OUT_OF_RANGE", "UNIMPLEMENTED", "INTERNAL", "UNAVAILABLE", "DATA_LOSS",
    "UNAUTHENTICATED",
}  # fmt: skip


@pytest.mark.parametrize("cls", ERROR_CLASSES, ids=lambda c: c.__name__)
def test_every_error_has_a_status_a_close_code_and_a_grpc_status(
    cls: type[errors.RuvstreamError],
) -> None:
    assert 400 <= http_status(cls) < 600
    assert close_code(cls) in {CLOSE_POLICY, CLOSE_TRY_AGAIN_LATER, CLOSE_INTERNAL}
    assert grpc_status(cls) in GRPC_CODES
    assert cls("m").status == http_status(cls)  # the error's own view reads the table


@pytest.mark.parametrize(
    ("error", "status", "close", "grpc"),
    [
        (errors.DimensionMismatchError("d"), 400, 1008, "INVALID_ARGUMENT"),
        (errors.UnauthorizedError("u"), 401, 1008, "UNAUTHENTICATED"),
        (errors.RecordNotFoundError("r"), 404, 1008, "NOT_FOUND"),
        (errors.CollectionExistsError("c"), 409, 1008, "ALREADY_EXISTS"),
        (errors.ConflictError("c"), 409, 1008, "ABORTED"),
        (errors.PayloadTooLargeError("p"), 413, 1008, "RESOURCE_EXHAUSTED"),
        (errors.UnsupportedMediaTypeError("m"), 415, 1008, "INVALID_ARGUMENT"),
        (errors.MethodNotAllowedError("m"), 405, 1008, "UNIMPLEMENTED"),
        (errors.UpgradeRequiredError("u"), 426, 1008, "FAILED_PRECONDITION"),
        (errors.RateLimitedError("r"), 429, 1008, "RESOURCE_EXHAUSTED"),
        (errors.UnavailableError("u"), 503, 1013, "UNAVAILABLE"),
        (errors.RequestTimeoutError("t"), 504, 1013, "DEADLINE_EXCEEDED"),
        (errors.InternalError("i"), 500, 1011, "INTERNAL"),
        (ClientTimeoutError("t", phase="read"), 504, 1013, "DEADLINE_EXCEEDED"),
        (ConnectError("c"), 503, 1013, "UNAVAILABLE"),
    ],
)
def test_rows_follow_the_nearest_listed_ancestor(
    error: errors.RuvstreamError, status: int, close: int, grpc: str
) -> None:
    assert (http_status(error), close_code(error), grpc_status(error)) == (status, close, grpc)


def test_reverse_lookup_gives_the_family_root() -> None:
    assert class_for_status(400) is errors.BadRequestError
    assert class_for_status(404) is errors.NotFoundError
    assert class_for_status(409) is errors.ConflictError
    assert class_for_status(500) is errors.InternalError
    assert class_for_status(418) is errors.BadRequestError
    assert class_for_status(502) is errors.InternalError
    for cls, row in ERROR_TABLE.items():
        assert http_status(class_for_status(row.http)) == row.http, cls
    assert errors.error_class_for(None, 429) is errors.RateLimitedError
    assert errors.error_class_for("record_not_found", 400) is errors.RecordNotFoundError


@pytest.mark.parametrize(
    ("error", "header"),
    [
        (errors.RateLimitedError("r", retry_after=0.05), "1"),
        (errors.UnavailableError("u", retry_after=2.2), "3"),
        (errors.UnavailableError("u"), "1"),
        (errors.RateLimitedError("r"), "1"),
        (errors.InvalidParameterError("p"), None),
        (errors.RequestTimeoutError("t", retry_after=4.0), "4"),
    ],
)
def test_one_retry_after_rule(error: errors.RuvstreamError, header: str | None) -> None:
    assert retry_after_header(error) == header
    assert dict(http_error(error).headers).get("retry-after") == header


def test_the_http_answer_the_error_body_and_the_frame_agree() -> None:
    error = errors.DimensionMismatchError("dimension 3, not 4", expected=4, got=3)
    answer = http_error(error)
    assert answer.status == 400 and answer.media_type == "application/json"
    assert (
        orjson.loads(answer.body)
        == error_body(error)
        == {
            "error": {
                "code": "dimension_mismatch",
                "message": "dimension 3, not 4",
                "details": {"expected": 4, "got": 3},
            }
        }
    )
    assert error_frame("r1", error) == {"id": "r1", "type": "error", **error_body(error)}


def test_an_unexpected_exception_is_an_internal_error() -> None:
    answer = http_error(KeyError("boom"))
    assert answer.status == 500
    assert orjson.loads(answer.body)["error"]["code"] == "internal"
    assert "boom" not in answer.body.decode()  # internals stay out of the answer
    assert error_frame(None, ValueError("x"))["error"]["code"] == "internal"
