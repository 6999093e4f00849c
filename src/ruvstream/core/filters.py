"""Metadata filters: a small, Mongo-like language compiled to predicates.

    {"genre": "jazz"}                          equality (implicit $eq)
    {"genre": {"$in": ["jazz", "blues"]}}      membership ($nin for the opposite)
    {"year": {"$gte": 1950, "$lt": 1970}}      numeric ranges ($gt $gte $lt $lte)
    {"$and": [...]}, {"$or": [...]}, {"$not": {...}}, {"a": {"$ne": 1}}
    {"a.b": 1}                                 dotted paths reach nested objects
    {"tag": {"$exists": true}}

Several keys in one object are joined with AND. Compilation validates the
whole expression once, so a bad filter is rejected before any search runs.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ruvstream.errors import InvalidFilterError

__all__ = ["Predicate", "compile_filter"]

Predicate = Callable[[dict[str, Any]], bool]
_MISSING = object()
_RANGE_OPS = {"$gt", "$gte", "$lt", "$lte"}
_MAX_DEPTH = 16


def _lookup(metadata: dict[str, Any], path: tuple[str, ...]) -> Any:
    value: Any = metadata
    for part in path:
        if not isinstance(value, dict):
            return _MISSING
        value = value.get(part, _MISSING)
        if value is _MISSING:
            return _MISSING
    return value


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _equal(a: Any, b: Any) -> bool:
    # True == 1 in Python; a filter on a boolean must not match the number 1.
    return a == b and isinstance(a, bool) == isinstance(b, bool)


def _scalar(value: Any, where: str) -> Any:
    if value is None or isinstance(value, str | bool | int | float):
        return value
    raise InvalidFilterError(f"{where} takes a string, number, boolean or null", path=where)


def _range(op: str, bound: Any, path: tuple[str, ...]) -> Predicate:
    if not _is_number(bound):
        raise InvalidFilterError(f"{op} takes a number", path=".".join(path))
    compare: Callable[[Any], bool] = {
        "$gt": lambda v: v > bound,
        "$gte": lambda v: v >= bound,
        "$lt": lambda v: v < bound,
        "$lte": lambda v: v <= bound,
    }[op]

    def check(metadata: dict[str, Any]) -> bool:
        value = _lookup(metadata, path)
        return _is_number(value) and compare(value)

    return check


def _field_op(op: str, arg: Any, path: tuple[str, ...]) -> Predicate:
    where = ".".join(path)
    if op in _RANGE_OPS:
        return _range(op, arg, path)
    if op in ("$eq", "$ne"):
        want = _scalar(arg, where)
        negate = op == "$ne"
        return lambda m: _equal(_lookup(m, path), want) != negate
    if op in ("$in", "$nin"):
        if not isinstance(arg, list):
            raise InvalidFilterError(f"{op} takes a list", path=where)
        choices = [_scalar(v, where) for v in arg]
        negate = op == "$nin"

        def member(metadata: dict[str, Any]) -> bool:
            value = _lookup(metadata, path)
            return any(_equal(value, c) for c in choices) != negate

        return member
    if op == "$exists":
        if not isinstance(arg, bool):
            raise InvalidFilterError("$exists takes true or false", path=where)
        return lambda m: (_lookup(m, path) is not _MISSING) == arg
    raise InvalidFilterError(f"unknown filter operator {op!r}", path=where, operator=op)


def _field(path: tuple[str, ...], condition: Any) -> Predicate:
    if isinstance(condition, dict):
        if not condition:
            raise InvalidFilterError("an operator object cannot be empty", path=".".join(path))
        if not all(isinstance(k, str) and k.startswith("$") for k in condition):
            raise InvalidFilterError("operator objects hold only $-operators", path=".".join(path))
        parts = [_field_op(op, arg, path) for op, arg in condition.items()]
        return parts[0] if len(parts) == 1 else _all_of(parts)
    return _field_op("$eq", condition, path)


def _all_of(parts: list[Predicate]) -> Predicate:
    return lambda m: all(p(m) for p in parts)


def _any_of(parts: list[Predicate]) -> Predicate:
    return lambda m: any(p(m) for p in parts)


def _none_of(parts: list[Predicate]) -> Predicate:
    return lambda m: not any(p(m) for p in parts)


def _compile(expr: Any, depth: int) -> Predicate:
    if depth > _MAX_DEPTH:
        raise InvalidFilterError(f"filters nest at most {_MAX_DEPTH} levels")
    if not isinstance(expr, dict):
        raise InvalidFilterError("a filter is a JSON object")
    parts: list[Predicate] = []
    for key, value in expr.items():
        if key in ("$and", "$or"):
            if not isinstance(value, list) or not value:
                raise InvalidFilterError(f"{key} takes a non-empty list of filters")
            subs = [_compile(v, depth + 1) for v in value]
            parts.append(_all_of(subs) if key == "$and" else _any_of(subs))
        elif key == "$not":
            parts.append(_none_of([_compile(value, depth + 1)]))
        elif key.startswith("$"):
            raise InvalidFilterError(f"unknown filter operator {key!r}", operator=key)
        elif not key:
            raise InvalidFilterError("field names cannot be empty")
        else:
            parts.append(_field(tuple(key.split(".")), value))
    if not parts:
        return lambda m: True
    return parts[0] if len(parts) == 1 else _all_of(parts)


def compile_filter(expr: Any) -> Predicate | None:
    """A predicate over metadata, or None for no filter (``None`` or ``{}``)."""
    if expr is None or expr == {}:
        return None
    return _compile(expr, 0)
