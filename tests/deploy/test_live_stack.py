"""Smoke test of the live stack itself: what the metric checks rely on is there."""

from __future__ import annotations

import pytest

from .conftest import LiveStack

pytestmark = [pytest.mark.nats]


def test_every_kind_of_traffic_left_its_labelled_series(live_stack: LiveStack) -> None:
    for name in (
        "ruvstream_search_latency_seconds_bucket",
        "ruvstream_ws_requests_total",
        "ruvstream_streams_active",
        "ruvstream_admission_rejected_total",
        "ruvstream_errors_total",
        "ruvstream_replication_lag_seconds",
        "ruvstream_replication_applied_ops_total",
        "ruvstream_router_requests_total",
        "ruvstream_router_rejected_total",
        "ruvstream_router_upstream_seconds_bucket",
        "ruvstream_router_node_up_ratio",
    ):
        assert name in live_stack.exported, name
