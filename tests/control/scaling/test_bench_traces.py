"""The benchmark's bursty traces are reproducible and hold the burst they promise."""

from __future__ import annotations

from ruvstream.bench.scaling import bursty_trace


def test_same_seed_same_trace_and_a_10_to_50x_burst() -> None:
    a, b = bursty_trace("product-launch", 3), bursty_trace("product-launch", 3)
    assert a.trace.rows == b.trace.rows and a.history == b.history
    assert a.trace.rows != bursty_trace("product-launch", 4).trace.rows
    assert 10 <= a.actual_multiplier <= 50
    event = next(iter(a.calendar))
    region = event.regions[0]
    before = a.trace.at(region, event.start - a.start - 900)[0]
    peak = max(r.offered_qps for r in a.trace.rows[region])
    assert peak / before > 8
