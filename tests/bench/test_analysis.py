"""Analysis rules on crafted results: SLA, anomalies, bottlenecks, score, compare."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from ruvstream.bench.analysis import analyze, compare, grade


def _window(
    t: float,
    p99: float = 5.0,
    ok: int = 100,
    errors: int = 0,
    sent: int = 100,
    throughput: float = 100.0,
) -> dict[str, Any]:
    return {
        "t": t,
        "sent": sent,
        "ok": ok,
        "errors": errors,
        "throughput": throughput,
        "p50": p99 / 2,
        "p99": p99,
        "max": p99,
        "streams": 10,
        "target_rate": 100.0,
    }


def _result() -> dict[str, Any]:
    latency = {
        "p50": 5.0,
        "p90": 10.0,
        "p95": 15.0,
        "p99": 25.0,
        "p999": 30.0,
        "max": 40.0,
        "min": 1.0,
        "mean": 6.0,
        "count": 1000.0,
    }
    return {
        "summary": {
            "ok": 1000,
            "failed": 0,
            "dropped": 0,
            "qps": 100.0,
            "target_qps": 100.0,
            "error_pct": 0.0,
            "availability_pct": 100.0,
            "latency": latency,
            "recall": 0.97,
            "errors": {},
            "stream_failures": {},
            "cost_per_million": 0.10,
        },
        "scenario": {
            "sla": {"p99_ms": 50.0, "error_pct": 0.01, "availability_pct": 99.99, "min_recall": 0.9}
        },
        "server": {
            "series": [{"t": 1.0, "cpu_percent": 50.0, "memory_pct": 50.0, "mean_batch": 2.0}]
        },
        "timeline": [_window(float(t)) for t in range(10)],
    }


def test_golden_score_and_clean_run() -> None:
    report = analyze(_result())
    # p99 25 of 50 -> latency 75, throughput 100 -> P 87.5; R 100; S 50; E 90
    assert report["score"] == {
        "overall": 84.6,
        "performance": 87.5,
        "reliability": 100.0,
        "scalability": 50.0,
        "efficiency": 90.0,
    }
    assert report["grade"] == "Good"
    assert report["sla"]["passed"]
    assert report["anomalies"] == [] and report["bottlenecks"] == []
    assert report["recommendations"] == ["No change needed at this load."]


def test_sla_failures_are_reported_per_check() -> None:
    result = _result()
    result["summary"]["latency"]["p99"] = 80.0
    result["summary"]["recall"] = 0.5
    report = analyze(result)
    checks = report["sla"]["checks"]
    assert not report["sla"]["passed"]
    assert not checks["p99_ms"]["ok"] and not checks["recall"]["ok"]
    assert checks["error_pct"]["ok"]
    assert any("ef_search" in r for r in report["recommendations"])


def test_anomalies_spike_errors_and_throughput_drop() -> None:
    result = _result()
    result["timeline"][3] = _window(3.0, p99=900.0)
    result["timeline"][5] = _window(5.0, ok=90, errors=10)
    result["timeline"][7] = _window(7.0, throughput=10.0)
    kinds = {(a["t"], a["kind"]) for a in analyze(result)["anomalies"]}
    assert kinds == {(3.0, "latency_spike"), (5.0, "error_spike"), (7.0, "throughput_drop")}


@pytest.mark.parametrize(
    ("change", "kind"),
    [
        ({"cpu_percent": 95.0}, "cpu_bound"),
        ({"mean_batch": 48.0}, "index_bound"),
    ],
)
def test_server_side_bottlenecks(change: dict[str, float], kind: str) -> None:
    result = _result()
    result["server"]["series"][0].update(change)
    assert [b["kind"] for b in analyze(result)["bottlenecks"]] == [kind]


def test_client_side_bottlenecks() -> None:
    result = _result()
    result["summary"]["errors"] = {"rate_limited": 3}
    result["summary"]["stream_failures"] = {"ConnectionRefusedError": 2}
    result["summary"]["qps"] = 40.0
    result["summary"]["dropped"] = 5
    kinds = [b["kind"] for b in analyze(result)["bottlenecks"]]
    assert kinds == ["connection_bound", "queueing", "generator_bound"]


def test_grades() -> None:
    assert [grade(x) for x in (95, 85, 75, 65, 10)] == [
        "Excellent",
        "Good",
        "Fair",
        "Needs improvement",
        "Poor",
    ]


def test_compare_reports_direction_of_each_change() -> None:
    a = _result()
    b = copy.deepcopy(a)
    b["summary"]["latency"]["p99"] = 20.0
    b["summary"]["qps"] = 120.0
    diff = compare(a, b)
    assert diff["metrics"]["p99_ms"]["change_pct"] == pytest.approx(-20.0)
    assert diff["metrics"]["p99_ms"]["improved"] and diff["metrics"]["qps"]["improved"]
    assert not diff["metrics"]["recall"]["improved"]
    assert diff["verdict"] == "improvement"
    assert compare(b, a)["verdict"] == "regression"
    assert compare(a, a)["verdict"] == "mixed"


def test_streams_lagging_the_plan_and_a_lagging_generator_are_named() -> None:
    result = _result()
    result["summary"]["streams_peak"] = 14_000
    result["summary"]["streams_planned_peak"] = 20_000
    result["summary"]["generator_lag_ms"] = {"p99": 400.0}
    found = {b["kind"]: b["detail"] for b in analyze(result)["bottlenecks"]}
    assert "14000 of 20000 planned" in found["connection_bound"]
    assert "400 ms" in found["generator_bound"]
