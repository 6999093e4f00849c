"""Region geography: the table is complete and consistent; RTTs behave like distances."""

from __future__ import annotations

import statistics

import pytest
from hypothesis import given
from hypothesis import strategies as st

import ruvstream.geo as geo

NAMES = geo.region_names()


def test_fifteen_regions_with_five_hubs() -> None:
    assert len(NAMES) == 15 == len(set(NAMES))
    hubs = {r.name for r in geo.REGIONS if r.tier == 1}
    assert hubs == {
        "us-central1",
        "europe-west1",
        "asia-northeast1",
        "asia-southeast1",
        "southamerica-east1",
    }
    for r in geo.REGIONS:
        assert r.hub in hubs
        assert -90 <= r.lat <= 90 and -180 <= r.lon <= 180


def test_exports() -> None:
    assert sorted(geo.__all__) == sorted(
        n for n in dir(geo) if not n.startswith("_") and n in geo.__all__
    )
    for name in geo.__all__:
        assert hasattr(geo, name)


def test_known_distances() -> None:
    assert geo.distance_km("europe-west2", "europe-west3") == pytest.approx(640, rel=0.05)
    assert geo.distance_km("us-east1", "europe-west1") == pytest.approx(6880, rel=0.05)


@given(st.sampled_from(NAMES), st.sampled_from(NAMES))
def test_rtt_is_symmetric_and_zero_on_diagonal(a: str, b: str) -> None:
    assert geo.rtt_ms(a, b) == geo.rtt_ms(b, a)
    assert (geo.rtt_ms(a, b) == 0) == (a == b)
    assert geo.rtt_ms(a, b) >= 0


def test_estimate_tracks_the_table() -> None:
    ratios = []
    for pair, measured in geo.MEASURED_RTT_MS.items():
        a, b = sorted(pair)
        ratio = geo.estimate_rtt_ms(geo.distance_km(a, b)) / measured
        assert 0.55 < ratio < 1.45, (a, b, ratio)
        ratios.append(ratio)
    assert 0.9 < statistics.median(ratios) < 1.1


def test_rank_by_rtt_nearest_first() -> None:
    ranked = geo.rank_by_rtt("europe-west2", ["asia-east1", "us-east1", "europe-west1"])
    assert ranked == ["europe-west1", "us-east1", "asia-east1"]
    assert geo.rank_by_rtt("us-east1", ["us-east1", "us-west1"])[0] == "us-east1"


def test_rank_keeps_unknown_labels_last() -> None:
    assert geo.rank_by_rtt("us-east1", ["local", "us-west1"]) == ["us-west1", "local"]
    assert geo.rank_by_rtt("local", ["us-west1", "local"]) == ["local", "us-west1"]


def test_nearest_region_from_a_point() -> None:
    assert geo.nearest_region(48.86, 2.35) == "europe-west1"  # Paris
    assert geo.nearest_region(40.71, -74.0) == "northamerica-northeast1"  # New York
    assert geo.nearest_region(40.71, -74.0, ["us-east1", "europe-west1"]) == "us-east1"
    with pytest.raises(ValueError):
        geo.nearest_region(0, 0, ["local"])


def test_unknown_region_names_the_known_ones() -> None:
    with pytest.raises(KeyError, match="us-central1"):
        geo.region("mars-north1")
