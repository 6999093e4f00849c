"""Tiers, keys and client location: pure policy, no sockets."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ruvstream.routing import Admission, ClientLocator, KeyRing, Tier


def test_shedding_order_free_then_standard_never_premium() -> None:
    admission = Admission(KeyRing())
    shed = {
        t: [p for p in (0.0, 0.4, 0.5, 0.89, 0.9, 1.0, 5.0) if admission.sheds(t, p)] for t in Tier
    }
    assert shed[Tier.FREE] == [0.5, 0.89, 0.9, 1.0, 5.0]
    assert shed[Tier.STANDARD] == [0.9, 1.0, 5.0]
    assert shed[Tier.PREMIUM] == []


def test_connection_cap_per_key(tmp_path: Path) -> None:
    path = tmp_path / "keys.json"
    path.write_text(
        json.dumps(
            {
                "keys": [{"key": "p", "tier": "premium"}, {"key": "f", "tier": "free"}],
                "tiers": {"free": {"max_connections": 2, "rate": 3}},
                "anonymous": None,
            }
        )
    )
    ring = KeyRing.from_file(path)
    assert ring.anonymous is None
    assert ring.lookup("f").tier is Tier.FREE  # type: ignore[union-attr]
    assert ring.policies[Tier.FREE].rate == 3 and ring.policies[Tier.FREE].burst == 100
    admission = Admission(ring)
    assert admission.open("f", Tier.FREE) and admission.open("f", Tier.FREE)
    assert not admission.open("f", Tier.FREE)
    admission.close("f")
    assert admission.open("f", Tier.FREE)
    assert all(admission.open("p", Tier.PREMIUM) for _ in range(1000))  # unlimited
    assert admission.connections("f") == 2


def test_bad_tier_is_rejected() -> None:
    with pytest.raises(ValueError, match="premium"):
        KeyRing.from_json({"keys": [{"key": "x", "tier": "gold"}]})


def test_client_location_order() -> None:
    loc = ClientLocator(
        "us-central1",
        ["us-east1", "local"],
        {"10.1.0.0/16": "europe-west1", "10.0.0.0/8": "us-east1"},
    )
    assert loc.locate({"x-client-region": "local"}, None) == "local"
    assert (
        loc.locate({"x-client-region": "nowhere"}, "10.1.2.3") == "europe-west1"
    )  # longest prefix
    assert loc.locate({"x-client-location": "35.7,139.7"}, "10.1.2.3") == "asia-northeast1"
    assert loc.locate({"x-client-location": "999,1"}, "10.9.9.9") == "us-east1"
    assert loc.locate({}, "192.168.1.1") == "us-central1"
    assert loc.locate({}, "not-an-ip") == "us-central1"


def test_subscription_affinity_is_bounded() -> None:
    from ruvstream.routing.affinity import SubscriptionAffinity

    affinity = SubscriptionAffinity(capacity=2)
    assert affinity.creates("POST", "/v1/collections/c/subscriptions")
    assert not affinity.creates("GET", "/v1/collections/c/subscriptions")
    for i in range(3):
        affinity.remember(f'{{"id": "s{i}"}}'.encode(), f"n{i}")
    affinity.remember(b"not json", "n9")
    assert affinity.node_for("/v1/subscriptions/s0/events") is None
    assert affinity.node_for("/v1/subscriptions/s2/events") == "n2"
    assert affinity.node_for("/v1/collections/c") is None
