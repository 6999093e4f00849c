"""The filter language: every operator, nesting, dotted paths, and every rejection."""

from __future__ import annotations

from typing import Any

import pytest

from ruvstream.config import InputLimits
from ruvstream.core.filters import compile_filter
from ruvstream.errors import InvalidFilterError

DOC: dict[str, Any] = {
    "genre": "jazz",
    "year": 1959,
    "rating": 4.5,
    "live": True,
    "count": 1,
    "none": None,
    "album": {"label": {"name": "Columbia"}, "tracks": 5},
}


def matches(expr: Any, doc: dict[str, Any] = DOC) -> bool:
    predicate = compile_filter(expr)
    assert predicate is not None
    return predicate(doc)


@pytest.mark.parametrize(
    ("expr", "expected"),
    [
        ({"genre": "jazz"}, True),
        ({"genre": "rock"}, False),
        ({"genre": {"$eq": "jazz"}}, True),
        ({"genre": {"$ne": "jazz"}}, False),
        ({"genre": {"$ne": "rock"}}, True),
        ({"genre": {"$in": ["rock", "jazz"]}}, True),
        ({"genre": {"$in": ["rock"]}}, False),
        ({"genre": {"$nin": ["rock"]}}, True),
        ({"genre": {"$nin": ["jazz"]}}, False),
        ({"year": {"$gt": 1958}}, True),
        ({"year": {"$gt": 1959}}, False),
        ({"year": {"$gte": 1959}}, True),
        ({"year": {"$lt": 1959}}, False),
        ({"year": {"$lte": 1959}}, True),
        ({"rating": {"$gte": 4.5, "$lt": 5}}, True),
        ({"rating": {"$gte": 4.5, "$lt": 4.5}}, False),
        ({"genre": {"$exists": True}}, True),
        ({"missing": {"$exists": True}}, False),
        ({"missing": {"$exists": False}}, True),
        ({"none": None}, True),
        ({"none": {"$exists": True}}, True),
        ({"missing": None}, False),
    ],
)
def test_field_operators(expr: dict[str, Any], expected: bool) -> None:
    assert matches(expr) is expected


def test_ranges_never_match_non_numbers() -> None:
    assert not matches({"genre": {"$gt": 0}})
    assert not matches({"live": {"$gte": 0}}), "a boolean is not a number"
    assert not matches({"missing": {"$lt": 10}})


def test_boolean_never_equals_number() -> None:
    assert matches({"live": True})
    assert not matches({"live": 1})
    assert not matches({"count": True})
    assert matches({"count": 1})
    assert matches({"count": 1.0})
    assert not matches({"count": {"$in": [True]}})
    assert matches({"live": {"$nin": [1]}})
    assert matches({"count": {"$ne": True}})


def test_dotted_paths_reach_nested_objects() -> None:
    assert matches({"album.label.name": "Columbia"})
    assert matches({"album.tracks": {"$gte": 5}})
    assert not matches({"album.label.name": "Blue Note"})
    assert not matches({"album.label.name.first": "C"}), "a path through a string is missing"
    assert not matches({"genre.x": {"$exists": True}})
    assert matches({"album.label.city": {"$exists": False}})


def test_logical_operators_and_nesting() -> None:
    assert matches({"$and": [{"genre": "jazz"}, {"year": 1959}]})
    assert not matches({"$and": [{"genre": "jazz"}, {"year": 1960}]})
    assert matches({"$or": [{"genre": "rock"}, {"year": 1959}]})
    assert not matches({"$or": [{"genre": "rock"}, {"year": 1960}]})
    assert matches({"$not": {"genre": "rock"}})
    assert not matches({"$not": {"genre": "jazz"}})
    nested = {
        "$or": [
            {"$and": [{"genre": "jazz"}, {"$not": {"year": {"$lt": 1950}}}]},
            {"genre": "blues"},
        ],
        "album.tracks": 5,
    }
    assert matches(nested)
    assert not matches({**nested, "album.tracks": 6}), "sibling keys are joined with AND"


def test_empty_filter_is_no_filter() -> None:
    assert compile_filter(None) is None
    assert compile_filter({}) is None


@pytest.mark.parametrize(
    "expr",
    [
        [],
        "genre",
        42,
        {"genre": {"$regex": "j.*"}},
        {"$where": "1"},
        {"genre": {}},
        {"genre": {"$eq": "jazz", "plain": 1}},
        {"genre": {"$eq": ["a"]}},
        {"genre": {"$eq": {"a": 1}}},
        {"genre": {"$in": "jazz"}},
        {"genre": {"$nin": {"a": 1}}},
        {"genre": {"$in": [["nested"]]}},
        {"year": {"$gt": "1950"}},
        {"year": {"$lte": True}},
        {"year": {"$lt": None}},
        {"genre": {"$exists": 1}},
        {"$and": []},
        {"$and": {"genre": "jazz"}},
        {"$or": []},
        {"$or": ["genre"]},
        {"$not": "genre"},
        {"": 1},
        {"genre": ["jazz"]},
    ],
)
def test_invalid_filters_are_rejected(expr: Any) -> None:
    with pytest.raises(InvalidFilterError) as caught:
        compile_filter(expr)
    assert caught.value.code == "invalid_filter"


def test_nesting_depth_is_bounded() -> None:
    expr: dict[str, Any] = {"genre": "jazz"}
    for _ in range(40):
        expr = {"$not": expr}
    with pytest.raises(InvalidFilterError):
        compile_filter(expr)


def test_stated_sizes_bound_a_filter() -> None:
    small = InputLimits(max_filter_depth=2, max_filter_values=3, max_filter_branches=2)
    assert compile_filter({"genre": {"$in": ["a", "b", "c"]}}, small) is not None
    for expr in (
        {"genre": {"$in": ["a", "b", "c", "d"]}},
        {"genre": {"$nin": ["a", "b", "c", "d"]}},
        {"$or": [{"a": 1}, {"b": 2}, {"c": 3}]},
        {"$not": {"$not": {"$not": {"a": 1}}}},
    ):
        with pytest.raises(InvalidFilterError) as caught:
            compile_filter(expr, small)
        assert caught.value.details["limit"] in (2, 3)


def test_membership_never_matches_a_list_or_an_object() -> None:
    assert not matches({"album": {"$in": ["Columbia", 5]}})
    assert matches({"album": {"$nin": ["Columbia", 5]}})
