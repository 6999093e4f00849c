"""Decoded requests to engine requests: every check of an untrusted search,
subscription or id list, whatever wire it came over.

A transport hands over ``Fields``: the request's fields as JSON would carry
them (numbers, strings, lists, objects). The checks and their messages are
the same for every transport.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import orjson

from ruvstream.core.filters import compile_filter
from ruvstream.core.spec import MAX_K, CollectionSpec
from ruvstream.core.vectors import as_vector
from ruvstream.engine import SearchRequest
from ruvstream.errors import InvalidParameterError

__all__ = [
    "MAX_BATCH_QUERIES",
    "MAX_ID_LENGTH",
    "Fields",
    "check_id",
    "parse_batch",
    "parse_ids",
    "parse_search",
    "parse_subscription",
]

Fields = dict[str, Any]
"""One decoded request: a JSON object's fields, or the same fields from another wire."""

MAX_ID_LENGTH = 512
MAX_BATCH_QUERIES = 1000


def _int(body: Fields, key: str, default: int | None, low: int, high: int) -> int | None:
    value = body.get(key, default)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise InvalidParameterError(
            f"{key} must be an integer in [{low}, {high}]", field=key, value=value
        )
    return int(value)


def parse_search(body: Fields, spec: CollectionSpec) -> SearchRequest:
    k = _int(body, "k", 10, 1, MAX_K)
    assert k is not None
    expression = body.get("filter")
    predicate = compile_filter(expression)
    return SearchRequest(
        vector=as_vector(body.get("vector"), spec.dim),
        k=k,
        ef=_int(body, "ef", None, 1, 4096),
        predicate=predicate,
        filter_key=None
        if predicate is None
        else orjson.dumps(expression, option=orjson.OPT_SORT_KEYS).decode(),
    )


def parse_batch(body: Fields, spec: CollectionSpec) -> list[SearchRequest]:
    """``{"queries": [<search>, ...]}``: 1 to ``MAX_BATCH_QUERIES`` searches."""
    queries = body.get("queries")
    if not isinstance(queries, list) or not queries or len(queries) > MAX_BATCH_QUERIES:
        raise InvalidParameterError(
            f"queries must be a list of 1 to {MAX_BATCH_QUERIES} searches", field="queries"
        )
    requests = []
    for query in queries:
        if not isinstance(query, dict):
            raise InvalidParameterError("each query must be an object", field="queries")
        requests.append(parse_search(query, spec))
    return requests


def parse_subscription(body: Fields, spec: CollectionSpec) -> tuple[SearchRequest, float | None]:
    """A standing query: ``k`` or ``min_score`` (one of them), vector, filter."""
    min_score = body.get("min_score")
    if min_score is not None and (
        isinstance(min_score, bool)
        or not isinstance(min_score, int | float)
        or not np.isfinite(min_score)
    ):
        raise InvalidParameterError("min_score must be a finite number", field="min_score")
    if min_score is not None and "k" in body:
        raise InvalidParameterError("give k or min_score, not both", field="k")
    request = parse_search({**body, "k": body.get("k", 10)}, spec)
    return request, None if min_score is None else float(min_score)


def check_id(value: Any, where: str) -> str:
    """A record id: a non-empty string of at most ``MAX_ID_LENGTH`` characters."""
    if not isinstance(value, str) or not value or len(value) > MAX_ID_LENGTH:
        raise InvalidParameterError(
            f"{where} must be a non-empty string of at most {MAX_ID_LENGTH} characters",
            field="id",
        )
    return value


def parse_ids(body: Fields) -> list[str]:
    ids = body.get("ids")
    if not isinstance(ids, list) or not ids:
        raise InvalidParameterError("ids must be a non-empty list", field="ids")
    return [check_id(i, "ids[]") for i in ids]
