"""Pure protocol functions: error decoding, Retry-After, SSE parsing, record forms."""

from __future__ import annotations

import email.utils

import numpy as np
import pytest

from ruvstream.client import (
    ClientTimeoutError,
    ConnectError,
    Record,
    TransportError,
)
from ruvstream.client.protocol import (
    RecordLike,
    SseParser,
    decode_error,
    is_retryable,
    parse_retry_after,
    record_json,
    search_body,
)
from ruvstream.errors import (
    BadRequestError,
    CollectionExistsError,
    DimensionMismatchError,
    RateLimitedError,
    RecordNotFoundError,
    UnavailableError,
)


def test_server_error_bodies_become_the_shared_error_classes() -> None:
    body = b'{"error": {"code": "dimension_mismatch", "message": "m", "details": {"got": 3}}}'
    error = decode_error(400, body, None)
    assert isinstance(error, DimensionMismatchError) and error.details == {"got": 3}
    assert isinstance(
        decode_error(404, b'{"error":{"code":"record_not_found"}}', None), RecordNotFoundError
    )
    assert isinstance(
        decode_error(409, b'{"error":{"code":"collection_exists"}}', None), CollectionExistsError
    )


def test_retry_after_comes_from_the_body_else_the_header() -> None:
    body = b'{"error": {"code": "rate_limited", "message": "m", "retry_after": 0.25}}'
    assert decode_error(429, body, "3").retry_after == 0.25
    bare = decode_error(503, b'{"error": {"code": "unavailable", "message": "m"}}', "3")
    assert isinstance(bare, UnavailableError) and bare.retry_after == 3.0


def test_answers_that_are_not_json_map_by_status() -> None:
    error = decode_error(503, b"<html>busy</html>", "2")
    assert isinstance(error, UnavailableError) and error.retry_after == 2.0
    assert isinstance(decode_error(429, b"", None), RateLimitedError)
    assert isinstance(decode_error(418, b"", None), BadRequestError)


def test_retry_after_accepts_seconds_and_http_dates() -> None:
    assert parse_retry_after("7") == 7.0
    assert parse_retry_after(None) is None
    assert parse_retry_after("soon") is None
    date = email.utils.formatdate(1_000_030.0, usegmt=True)
    assert parse_retry_after(date, now=1_000_000.0) == pytest.approx(30.0)


def test_reads_and_keyed_writes_retry_unkeyed_writes_only_when_unsent() -> None:
    for error in (UnavailableError("x"), TransportError("x"), ClientTimeoutError("x")):
        assert is_retryable(error, keyed=True)
        assert not is_retryable(error, keyed=False)
    assert is_retryable(ConnectError("x"), keyed=False)
    assert is_retryable(RateLimitedError("x"), keyed=False)
    assert not is_retryable(BadRequestError("x"), keyed=True)


def test_sse_parser_joins_data_lines_and_skips_heartbeats() -> None:
    lines = [
        ": ping",
        "",
        "event: hit",
        'data: {"id": "a",',
        'data: "score": 1}',
        "",
        "event: done",
        "data: {}",
        "",
    ]
    events = SseParser().feed(lines)
    assert [e.event for e in events] == ["hit", "done"]
    assert events[0].json() == {"id": "a", "score": 1}


def test_records_may_be_records_mappings_or_tuples() -> None:
    forms: list[RecordLike] = [
        Record("a", [1, 2], {"g": 1}),
        {"id": "a", "vector": np.array([1, 2]), "metadata": {"g": 1}},
        ("a", [1.0, 2.0], {"g": 1}),
    ]
    for form in forms:
        body = record_json(form)
        assert body["id"] == "a" and body["metadata"] == {"g": 1}
        assert body["vector"].dtype == np.float32
    assert "metadata" not in record_json(("b", [1.0]))


def test_a_vector_must_be_one_dimensional() -> None:
    with pytest.raises(ValueError):
        search_body([[1.0, 2.0]])
