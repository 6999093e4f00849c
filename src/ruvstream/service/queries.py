"""Decoded requests to engine requests: every check of an untrusted search,
subscription or id list, whatever wire it came over.

A transport hands over ``Fields``: the request's fields as JSON would carry
them (numbers, strings, lists, objects). The checks, their messages and the
stated sizes (``config.InputLimits``) are the same for every transport.
"""

from __future__ import annotations

import re
from typing import Any

import numpy as np
import orjson

from ruvstream.config import InputLimits
from ruvstream.core.filters import compile_filter
from ruvstream.core.spec import MAX_K, CollectionSpec, bounded_int
from ruvstream.core.vectors import as_vector
from ruvstream.engine import SearchRequest
from ruvstream.errors import InvalidParameterError

__all__ = [
    "MAX_BATCH_QUERIES",
    "MAX_EF",
    "MAX_ID_LENGTH",
    "Fields",
    "check_count",
    "check_id",
    "parse_batch",
    "parse_ids",
    "parse_search",
    "parse_subscription",
]

Fields = dict[str, Any]
"""One decoded request: a JSON object's fields, or the same fields from another wire."""

DEFAULT_LIMITS = InputLimits()
MAX_ID_LENGTH = DEFAULT_LIMITS.max_id_length
MAX_BATCH_QUERIES = DEFAULT_LIMITS.max_batch_queries
MAX_EF = 4096
_NOT_IN_IDS = re.compile(r"[/\x00-\x1f\x7f-\x9f]")
"""A slash, or a control character: an id holding one could not be fetched by its URL."""


def _int(body: Fields, key: str, low: int, high: int) -> int | None:
    """The integer field ``key`` in [low, high]; None when absent (or null, for ``ef``)."""
    if key not in body:
        return None
    value = body[key]
    if value is None and key == "ef":
        return None  # the collection's ef_search, as when absent
    return bounded_int(key, value, low, high)


def parse_search(
    body: Fields, spec: CollectionSpec, limits: InputLimits = DEFAULT_LIMITS
) -> SearchRequest:
    k = _int(body, "k", 1, MAX_K)
    expression = body.get("filter")
    predicate = compile_filter(expression, limits)
    return SearchRequest(
        vector=as_vector(body.get("vector"), spec.dim),
        k=10 if k is None else k,
        ef=_int(body, "ef", 1, MAX_EF),
        predicate=predicate,
        filter_key=None
        if predicate is None
        else orjson.dumps(expression, option=orjson.OPT_SORT_KEYS).decode(),
    )


def parse_batch(
    body: Fields, spec: CollectionSpec, limits: InputLimits = DEFAULT_LIMITS
) -> list[SearchRequest]:
    """``{"queries": [<search>, ...]}``: 1 to ``max_batch_queries`` searches."""
    queries = body.get("queries")
    most = limits.max_batch_queries
    if not isinstance(queries, list) or not queries or len(queries) > most:
        raise InvalidParameterError(
            f"queries must be a list of 1 to {most} searches", field="queries", limit=most
        )
    requests = []
    for query in queries:
        if not isinstance(query, dict):
            raise InvalidParameterError("each query must be an object", field="queries")
        requests.append(parse_search(query, spec, limits))
    return requests


def parse_subscription(
    body: Fields, spec: CollectionSpec, limits: InputLimits = DEFAULT_LIMITS
) -> tuple[SearchRequest, float | None]:
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
    request = parse_search(body, spec, limits)
    return request, None if min_score is None else float(min_score)


def check_id(value: Any, where: str, limits: InputLimits = DEFAULT_LIMITS) -> str:
    """A record id: 1 to ``max_id_length`` characters, none of them a slash or a
    control character, and not ``.`` or ``..`` (which URLs resolve away), so
    every id is fetchable back at ``/records/{percent-encoded id}``."""
    most = limits.max_id_length
    if not isinstance(value, str) or not value or len(value) > most:
        raise InvalidParameterError(
            f"{where} must be a non-empty string of at most {most} characters",
            field="id",
            limit=most,
        )
    if value in (".", "..") or _NOT_IN_IDS.search(value) is not None:
        raise InvalidParameterError(
            f"{where} holds a slash or a control character, or is . or ..", field="id"
        )
    return value


def check_count(items: Any, key: str, most: int) -> list[Any]:
    """A non-empty list of at most ``most`` items (records or ids of one write)."""
    if not isinstance(items, list) or not items:
        raise InvalidParameterError(f"{key} must be a non-empty list", field=key)
    if len(items) > most:
        raise InvalidParameterError(f"at most {most} {key} per write", field=key, limit=most)
    return items


def parse_ids(body: Fields, limits: InputLimits = DEFAULT_LIMITS) -> list[str]:
    ids = check_count(body.get("ids"), "ids", limits.max_records_per_write)
    return [check_id(i, "ids[]", limits) for i in ids]
