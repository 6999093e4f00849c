"""Hybrid logical clocks, vector input checks and collection specs."""

from __future__ import annotations

from typing import Any

import msgspec
import numpy as np
import pytest

from ruvstream.core.clock import ManualClock
from ruvstream.core.hlc import LOGICAL_BITS, HybridLogicalClock, physical_ms
from ruvstream.core.records import CollectionSpecData, OpKind, OpRecord, decode_op, encode_op
from ruvstream.core.spec import MAX_DIM, CollectionSpec, validate_collection_name
from ruvstream.core.vectors import as_matrix, as_vector, normalize_rows
from ruvstream.errors import DimensionMismatchError, InvalidParameterError, InvalidVectorError


# -- hybrid logical clock ------------------------------------------------------
def test_hlc_follows_the_wall_clock() -> None:
    clock = ManualClock(start=1000.0)
    hlc = HybridLogicalClock(clock)
    first = hlc.tick()
    assert physical_ms(first) == 1_000_000
    clock.advance(0.5)
    assert physical_ms(hlc.tick()) == 1_000_500


def test_hlc_is_monotonic_when_the_wall_clock_goes_backwards() -> None:
    clock = ManualClock(start=2000.0)
    hlc = HybridLogicalClock(clock)
    stamps = [hlc.tick()]
    clock.set_wall(1000.0)  # a step back of 1000 s
    stamps += [hlc.tick() for _ in range(100)]
    assert stamps == sorted(set(stamps)), "strictly increasing"
    assert physical_ms(stamps[-1]) == 2_000_000, "physical time does not go back"
    clock.set_wall(3000.0)
    assert physical_ms(hlc.tick()) == 3_000_000


def test_hlc_observe_exceeds_the_remote_and_everything_issued() -> None:
    clock = ManualClock(start=1000.0)
    hlc = HybridLogicalClock(clock)
    local = hlc.tick()
    remote = (5_000_000 << LOGICAL_BITS) + 7  # a peer whose clock runs far ahead
    merged = hlc.observe(remote)
    assert merged > remote
    assert merged > local
    assert hlc.tick() > merged
    again = hlc.observe(0)
    assert again > merged, "an old remote still moves the clock forward"
    assert hlc.last == again


# -- vectors -------------------------------------------------------------------------
@pytest.mark.parametrize(
    "value",
    [
        [1.0, float("nan"), 0.0],
        [1.0, float("inf"), 0.0],
        [1.0, -float("inf"), 0.0],
    ],
)
def test_non_finite_vectors_are_rejected(value: list[float]) -> None:
    with pytest.raises(InvalidVectorError) as caught:
        as_vector(value, 3)
    assert caught.value.code == "invalid_vector"


@pytest.mark.filterwarnings("ignore:overflow encountered in cast:RuntimeWarning")
def test_float32_overflow_is_rejected() -> None:
    """1e39 is a finite JSON number but infinite as float32: it must not be stored."""
    with pytest.raises(InvalidVectorError):
        as_vector([1e39, 0.0, 0.0], 3)
    with pytest.raises(InvalidVectorError):
        as_matrix([[1e39, 0.0, 0.0]], 3)


def test_float32_overflow_raises_no_warning() -> None:
    with pytest.raises(InvalidVectorError):
        as_vector([1e39, 0.0, 0.0], 3)


def test_wrong_dimension_names_both_sizes() -> None:
    with pytest.raises(DimensionMismatchError) as caught:
        as_vector([1.0, 2.0], 3)
    assert caught.value.details == {"expected": 3, "got": 2}
    with pytest.raises(DimensionMismatchError):
        as_matrix([[1.0, 2.0]], 3)


@pytest.mark.parametrize(
    "value",
    [
        None,
        [],
        "1,2,3",
        {"x": 1},
        ["a", "b", "c"],
        [1.0, None, 2.0],
        [[1.0, 2.0, 3.0]],
        [[1.0], [2.0], [3.0]],
        [1.0, [2.0], 3.0],
    ],
)
def test_malformed_vectors_are_rejected(value: Any) -> None:
    with pytest.raises(InvalidVectorError):
        as_vector(value, 3)


@pytest.mark.parametrize(
    "values",
    [[1.0, 2.0, 3.0], [[1.0, 2.0, 3.0], [1.0, 2.0]], [["a", "b", "c"]], [[[1.0, 2.0, 3.0]]]],
)
def test_malformed_matrices_are_rejected(values: Any) -> None:
    with pytest.raises(InvalidVectorError):
        as_matrix(values, 3)


def test_good_input_becomes_float32() -> None:
    vector = as_vector([1, 2, 3], 3)
    assert vector.dtype == np.float32 and vector.shape == (3,)
    matrix = as_matrix([[1, 2, 3], [4, 5, 6]], 3)
    assert matrix.dtype == np.float32 and matrix.shape == (2, 3)
    unit = normalize_rows(np.array([[3.0, 4.0], [0.0, 0.0]], dtype=np.float32))
    assert np.allclose(unit, [[0.6, 0.8], [0.0, 0.0]])


# -- collection specs ----------------------------------------------------------------
def test_spec_defaults_and_round_trip() -> None:
    spec = CollectionSpec.from_request({"dim": 50})
    assert (spec.metric, spec.m, spec.ef_construction, spec.ef_search) == ("cosine", 16, 200, 200)
    assert CollectionSpec.from_data(spec.to_data()) == spec
    assert CollectionSpec.from_request(spec.as_dict()) == spec
    assert spec.index == "hnsw"


def test_spec_index_is_chosen_by_name_and_survives_the_wire() -> None:
    spec = CollectionSpec.from_request({"dim": 3, "index": "exact"})
    assert spec.index == "exact" and spec.as_dict()["index"] == "exact"
    assert CollectionSpec.from_data(spec.to_data()) == spec
    op = OpRecord(1, "a", "c", OpKind.CREATE_COLLECTION, spec=spec.to_data())
    decoded = decode_op(encode_op(op)).spec
    assert decoded is not None and CollectionSpec.from_data(decoded) == spec


def test_an_index_name_that_is_not_a_backend_is_refused_by_field() -> None:
    with pytest.raises(InvalidParameterError, match=r"\['hnsw', 'exact'\]") as caught:
        CollectionSpec.from_request({"dim": 3, "index": "annoy"})
    assert caught.value.details["field"] == "index"


def test_a_create_logged_before_the_index_field_decodes_as_hnsw() -> None:
    old = {"dim": 3, "metric": "l2", "m": 8, "ef_construction": 32, "ef_search": 32}
    data = msgspec.msgpack.decode(msgspec.msgpack.encode(old), type=CollectionSpecData)
    assert CollectionSpec.from_data(data).index == "hnsw"


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"dim": 0},
        {"dim": MAX_DIM + 1},
        {"dim": "50"},
        {"dim": 50.5},
        {"dim": True},
        {"dim": 50, "metric": "hamming"},
        {"dim": 50, "m": 2},
        {"dim": 50, "ef_construction": 4},
        {"dim": 50, "ef_search": 0},
        {"dim": 50, "colour": "red"},
        {"dim": 50, "index": "annoy"},
        {"dim": 50, "index": ["exact"]},
    ],
)
def test_bad_specs_are_rejected(body: dict[str, Any]) -> None:
    with pytest.raises(InvalidParameterError):
        CollectionSpec.from_request(body)


def test_an_integral_float_is_the_integer_it_equals() -> None:
    # JSON Schema's "integer" admits 50.0, so the published contract does too.
    assert CollectionSpec.from_request({"dim": 50.0, "m": 16.0}).dim == 50


@pytest.mark.parametrize("name", ["", "-x", "a/b", "a b", "x" * 129, "é"])
def test_bad_collection_names_are_rejected(name: str) -> None:
    with pytest.raises(InvalidParameterError):
        validate_collection_name(name)


def test_good_collection_names_pass() -> None:
    for name in ("a", "A.b-c_d", "x" * 128, "0"):
        assert validate_collection_name(name) == name
