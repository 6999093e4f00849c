"""Metadata filters: a small, Mongo-like language compiled to predicates.

    {"genre": "jazz"}                          equality (implicit $eq)
    {"genre": {"$in": ["jazz", "blues"]}}      membership ($nin for the opposite)
    {"year": {"$gte": 1950, "$lt": 1970}}      numeric ranges ($gt $gte $lt $lte)
    {"$and": [...]}, {"$or": [...]}, {"$not": {...}}, {"a": {"$ne": 1}}
    {"a.b": 1}                                 dotted paths reach nested objects
    {"tag": {"$exists": true}}

Several keys in one object are joined with AND. Compilation validates the
whole expression once, so a bad filter is rejected before any search runs,
and within the stated sizes (``InputLimits``: depth, ``$in`` values, ``$and``
/``$or`` branches). A compiled ``Filter`` knows its ``cost``: how many
conditions one call may check. ``$in`` is a set lookup, one condition
however long its list, so a cached mask re-checks it cheaply on every write.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ruvstream.config import InputLimits
from ruvstream.errors import InvalidFilterError

__all__ = ["Filter", "Predicate", "compile_filter"]

Predicate = Callable[[dict[str, Any]], bool]
_MISSING = object()
_RANGE_OPS = {"$gt", "$gte", "$lt", "$lte"}
_DEFAULT_LIMITS = InputLimits()


class Filter:
    """A compiled filter: call it on a record's metadata.

    ``cost`` counts the conditions one call may check (each ``$and``/``$or``
    branch, each field operator; ``$in`` and ``$nin`` are one each).
    """

    __slots__ = ("_check", "cost")

    def __init__(self, check: Predicate, cost: int) -> None:
        self._check = check
        self.cost = cost

    def __call__(self, metadata: dict[str, Any]) -> bool:
        return self._check(metadata)


_Compiled = tuple[Predicate, int]


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


def _member_key(value: Any) -> tuple[str, Any] | None:
    """A set key that keeps ``_equal``'s rule: 1 and 1.0 meet, True and 1 do not."""
    if isinstance(value, bool):
        return ("b", value)
    if isinstance(value, int | float):
        return ("n", value)
    if value is None or isinstance(value, str):
        return ("s", value)
    return None  # a list or an object never equals a scalar


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


def _membership(op: str, arg: Any, path: tuple[str, ...], limits: InputLimits) -> Predicate:
    where = ".".join(path)
    if not isinstance(arg, list):
        raise InvalidFilterError(f"{op} takes a list", path=where)
    if len(arg) > limits.max_filter_values:
        raise InvalidFilterError(
            f"{op} takes at most {limits.max_filter_values} values",
            path=where,
            limit=limits.max_filter_values,
        )
    choices = frozenset(_member_key(_scalar(v, where)) for v in arg)
    negate = op == "$nin"

    def member(metadata: dict[str, Any]) -> bool:
        return (_member_key(_lookup(metadata, path)) in choices) != negate

    return member


def _field_op(op: str, arg: Any, path: tuple[str, ...], limits: InputLimits) -> Predicate:
    where = ".".join(path)
    if op in _RANGE_OPS:
        return _range(op, arg, path)
    if op in ("$eq", "$ne"):
        want = _scalar(arg, where)
        negate = op == "$ne"
        return lambda m: _equal(_lookup(m, path), want) != negate
    if op in ("$in", "$nin"):
        return _membership(op, arg, path, limits)
    if op == "$exists":
        if not isinstance(arg, bool):
            raise InvalidFilterError("$exists takes true or false", path=where)
        return lambda m: (_lookup(m, path) is not _MISSING) == arg
    raise InvalidFilterError(f"unknown filter operator {op!r}", path=where, operator=op)


def _field(path: tuple[str, ...], condition: Any, limits: InputLimits) -> _Compiled:
    if isinstance(condition, dict):
        if not condition:
            raise InvalidFilterError("an operator object cannot be empty", path=".".join(path))
        if not all(isinstance(k, str) and k.startswith("$") for k in condition):
            raise InvalidFilterError("operator objects hold only $-operators", path=".".join(path))
        parts = [_field_op(op, arg, path, limits) for op, arg in condition.items()]
        return (parts[0] if len(parts) == 1 else _all_of(parts)), len(parts)
    return _field_op("$eq", condition, path, limits), 1


def _all_of(parts: list[Predicate]) -> Predicate:
    return lambda m: all(p(m) for p in parts)


def _any_of(parts: list[Predicate]) -> Predicate:
    return lambda m: any(p(m) for p in parts)


def _none_of(parts: list[Predicate]) -> Predicate:
    return lambda m: not any(p(m) for p in parts)


def _branches(key: str, value: Any, depth: int, limits: InputLimits) -> _Compiled:
    if not isinstance(value, list) or not value:
        raise InvalidFilterError(f"{key} takes a non-empty list of filters")
    if len(value) > limits.max_filter_branches:
        raise InvalidFilterError(
            f"{key} takes at most {limits.max_filter_branches} filters",
            limit=limits.max_filter_branches,
        )
    subs = [_compile(v, depth + 1, limits) for v in value]
    checks = [check for check, _ in subs]
    cost = sum(c for _, c in subs)
    return (_all_of(checks) if key == "$and" else _any_of(checks)), cost


def _compile(expr: Any, depth: int, limits: InputLimits) -> _Compiled:
    if depth > limits.max_filter_depth:
        raise InvalidFilterError(
            f"filters nest at most {limits.max_filter_depth} levels",
            limit=limits.max_filter_depth,
        )
    if not isinstance(expr, dict):
        raise InvalidFilterError("a filter is a JSON object")
    parts: list[_Compiled] = []
    for key, value in expr.items():
        if key in ("$and", "$or"):
            parts.append(_branches(key, value, depth, limits))
        elif key == "$not":
            check, cost = _compile(value, depth + 1, limits)
            parts.append((_none_of([check]), cost))
        elif key.startswith("$"):
            raise InvalidFilterError(f"unknown filter operator {key!r}", operator=key)
        elif not key:
            raise InvalidFilterError("field names cannot be empty")
        else:
            parts.append(_field(tuple(key.split(".")), value, limits))
    if not parts:
        return (lambda m: True), 1
    if len(parts) == 1:
        return parts[0]
    return _all_of([check for check, _ in parts]), sum(c for _, c in parts)


def compile_filter(expr: Any, limits: InputLimits = _DEFAULT_LIMITS) -> Filter | None:
    """A filter over metadata, or None for no filter (``None`` or ``{}``)."""
    if expr is None or expr == {}:
        return None
    check, cost = _compile(expr, 0, limits)
    return Filter(check, cost)
