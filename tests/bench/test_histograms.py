"""Percentiles come from HDR histograms; stalls land in the windows they delayed."""

from __future__ import annotations

import numpy as np

from ruvstream.bench.histograms import LatencyBook, Timeline, summarize


def test_percentiles_match_the_recorded_values_within_hdr_precision() -> None:
    rng = np.random.default_rng(5)
    values = rng.lognormal(mean=-5, sigma=1.0, size=20_000)  # seconds, ~7 ms median
    book = LatencyBook()
    for v in values:
        book.record("search", "http", "local", float(v))
    summary = summarize(book.merged())
    for name, pct in (("p50", 50), ("p90", 90), ("p99", 99), ("p999", 99.9)):
        exact_ms = float(np.percentile(values, pct)) * 1000
        assert abs(summary[name] - exact_ms) / exact_ms < 0.01, name
    assert summary["count"] == 20_000
    assert abs(summary["max"] - values.max() * 1000) / (values.max() * 1000) < 0.002


def test_merging_books_is_lossless() -> None:
    a, b = LatencyBook(), LatencyBook()
    for i in range(1, 101):
        a.record("search", "http", "r1", i / 1000)
        b.record("search", "ws", "r2", (i + 100) / 1000)
    b.record_error("timeout", 10.0)
    merged = LatencyBook()
    merged.merge(a)
    merged.merge(b)
    assert merged.ok == 200 and merged.failed == 1
    assert summarize(merged.merged())["p50"] == summarize(merged.merged())["p50"]
    assert abs(summarize(merged.merged())["p50"] - 100.0) < 0.2
    assert merged.errors == {"timeout": 1}
    encoded = merged.to_json()
    assert {row["region"] for row in encoded["by_key"]} == {"r1", "r2"}


def test_a_stall_is_latency_in_the_intended_window_and_a_dip_where_it_happened() -> None:
    timeline = Timeline(window=1.0)
    for i in range(30):
        t = i * 0.1
        timeline.sent(t)
        # requests intended during [1, 2) all wait until t = 2.5
        latency = (2.5 - t) if 1.0 <= t < 2.0 else 0.005
        timeline.record(t, latency, ok=True)
    rows = timeline.series()
    assert [r["sent"] for r in rows[:3]] == [10, 10, 10]
    assert rows[1]["ok"] == 10 and rows[1]["p50"] > 500  # ms
    assert rows[0]["p99"] < 10
    assert rows[1]["throughput"] == 0  # nothing completed during the stall
    assert rows[2]["throughput"] == 20  # the backlog and window 2's own requests
