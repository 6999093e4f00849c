"""Judge a run: SLA compliance, anomalies, bottlenecks, score, recommendations.

Pure functions over the result dictionary the runner writes (``result.json``
schema): ``summary`` (overall latency percentiles in ms, counts, rates),
``timeline`` (per-window series), ``server`` (scraped samples) and the
scenario's SLA. Every threshold used is named here, once.
"""

from __future__ import annotations

import statistics
from typing import Any

__all__ = ["analyze", "compare", "grade"]

SPIKE_FACTOR = 5.0
ERROR_WINDOW_PCT = 1.0
DROP_FACTOR = 0.5
CPU_BOUND_PCT = 85.0
INDEX_BOUND_BATCH = 32.0
QUEUE_RATIO = 10.0
STREAM_LAG = 0.9
GENERATOR_LAG_MS = 50.0
BASE_COST_PER_MILLION = 0.10
GRADES = ((90, "Excellent"), (80, "Good"), (70, "Fair"), (60, "Needs improvement"), (0, "Poor"))


def grade(score: float) -> str:
    return next(name for floor, name in GRADES if score >= floor)


def sla_compliance(summary: dict[str, Any], sla: dict[str, Any]) -> dict[str, Any]:
    checks = {
        "p99_ms": (
            summary["latency"]["p99"],
            sla["p99_ms"],
            summary["latency"]["p99"] <= sla["p99_ms"],
        ),
        "error_pct": (
            summary["error_pct"],
            sla["error_pct"],
            summary["error_pct"] <= sla["error_pct"],
        ),
        "availability_pct": (
            summary["availability_pct"],
            sla["availability_pct"],
            summary["availability_pct"] >= sla["availability_pct"],
        ),
        "recall": (summary["recall"], sla["min_recall"], summary["recall"] >= sla["min_recall"]),
    }
    rows = {k: {"value": v, "target": t, "ok": ok} for k, (v, t, ok) in checks.items()}
    return {"passed": all(r["ok"] for r in rows.values()), "checks": rows}


def anomalies(timeline: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Windows whose p99, error rate or throughput stand out from the run.

    A throughput drop is a window whose completions fall under half of what
    was sent in it (the run's own offered load, so ramps are not flagged).
    """
    found: list[dict[str, Any]] = []
    p99s = [w["p99"] for w in timeline if w["ok"] + w["errors"]]
    window = timeline[1]["t"] - timeline[0]["t"] if len(timeline) > 1 else 1.0
    typical = statistics.median(p99s) if p99s else 0.0
    for w in timeline:
        done = w["ok"] + w["errors"]
        if done and typical > 0 and w["p99"] > SPIKE_FACTOR * typical and w["p99"] > 1.0:
            found.append(_anomaly(w, "latency_spike", "high", w["p99"], SPIKE_FACTOR * typical))
        if done and 100.0 * w["errors"] / done > ERROR_WINDOW_PCT:
            pct = 100.0 * w["errors"] / done
            found.append(_anomaly(w, "error_spike", "critical", pct, ERROR_WINDOW_PCT))
        offered = w["sent"] / window
        if offered >= 1.0 and w["throughput"] < DROP_FACTOR * offered:
            found.append(
                _anomaly(w, "throughput_drop", "medium", w["throughput"], DROP_FACTOR * offered)
            )
    return found


def _anomaly(
    w: dict[str, Any], kind: str, severity: str, value: float, limit: float
) -> dict[str, Any]:
    return {"t": w["t"], "kind": kind, "severity": severity, "value": value, "threshold": limit}


def bottlenecks(summary: dict[str, Any], server: dict[str, Any]) -> list[dict[str, Any]]:
    """Name what limited the run, from the node's own figures and the client's."""
    out: list[dict[str, Any]] = []
    series = server.get("series", [])
    cpu = statistics.fmean([s["cpu_percent"] for s in series]) if series else 0.0
    batch = statistics.fmean([s["mean_batch"] for s in series]) if series else 0.0
    lat = summary["latency"]
    if cpu >= CPU_BOUND_PCT:
        out.append(
            {"kind": "cpu_bound", "value": cpu, "detail": f"node CPU averaged {cpu:.0f}% of a core"}
        )
    refused = sum(summary["errors"].get(c, 0) for c in ("rate_limited", "unavailable"))
    conn_errors = sum(v for c, v in summary["errors"].items() if "connect" in c)
    stream_failures = sum(summary.get("stream_failures", {}).values())
    planned, held = summary.get("streams_planned_peak", 0), summary.get("streams_peak", 0)
    lagged = planned > 0 and held < STREAM_LAG * planned
    if refused or conn_errors or stream_failures or lagged:
        out.append(
            {
                "kind": "connection_bound",
                "value": refused + conn_errors + stream_failures,
                "detail": f"{refused} refused, {conn_errors} connect errors, "
                f"{stream_failures} streams not opened, {held} of {planned} planned "
                "streams held at peak",
            }
        )
    if batch >= INDEX_BOUND_BATCH:
        out.append({"kind": "index_bound", "value": batch, "detail": f"mean batch {batch:.1f}"})
    behind = summary["target_qps"] > 0 and summary["qps"] < 0.9 * summary["target_qps"]
    if lat["p50"] > 0 and (lat["p99"] > QUEUE_RATIO * lat["p50"] or behind):
        out.append(
            {
                "kind": "queueing",
                "value": lat["p99"] / lat["p50"],
                "detail": f"p99/p50 = {lat['p99'] / lat['p50']:.1f}, "
                f"achieved {summary['qps']:.0f} of {summary['target_qps']:.0f} q/s",
            }
        )
    lag = summary.get("generator_lag_ms", {}).get("p99", 0.0)
    if lag > GENERATOR_LAG_MS:
        out.append(
            {
                "kind": "generator_bound",
                "value": lag,
                "detail": f"the load generator's event loop lagged {lag:.0f} ms (p99): "
                "latencies include its own delay",
            }
        )
    if summary.get("dropped", 0):
        out.append(
            {
                "kind": "generator_bound",
                "value": summary["dropped"],
                "detail": f"{summary['dropped']} sends dropped at the in-flight cap",
            }
        )
    return out


def score(summary: dict[str, Any], sla: dict[str, Any], server: dict[str, Any]) -> dict[str, float]:
    """Score 0..100: performance 35 %, reliability 35 %, scalability 20 %, efficiency 10 %."""
    lat_score = max(0.0, 100.0 - summary["latency"]["p99"] / sla["p99_ms"] * 50.0)
    target = summary["target_qps"]
    tput_score = min(100.0, 100.0 * summary["qps"] / target) if target else 100.0
    performance = (lat_score + tput_score) / 2
    reliability = (summary["availability_pct"] + max(0.0, 100.0 - summary["error_pct"] * 100)) / 2
    series = server.get("series", [])
    cpu = statistics.fmean([s["cpu_percent"] for s in series]) if series else 0.0
    mem = statistics.fmean([s.get("memory_pct", 0.0) for s in series]) if series else 0.0
    scalability = (max(0.0, 100.0 - cpu) + max(0.0, 100.0 - mem)) / 2
    efficiency = max(0.0, 100.0 - summary["cost_per_million"] / BASE_COST_PER_MILLION * 10)
    overall = 0.35 * performance + 0.35 * reliability + 0.20 * scalability + 0.10 * efficiency
    return {
        "overall": round(overall, 1),
        "performance": round(performance, 1),
        "reliability": round(reliability, 1),
        "scalability": round(scalability, 1),
        "efficiency": round(efficiency, 1),
    }


_ADVICE = {
    "cpu_bound": "Add nodes or search threads: the node's CPU is saturated; "
    "spread streams over more processes or raise --search-threads.",
    "connection_bound": "Raise --max-connections / the file limit, or add nodes behind "
    "the router: streams or requests were refused.",
    "index_bound": "Batches are full: lower ef_search for this recall target or raise "
    "--max-batch, or shard the collection across nodes.",
    "queueing": "Requests queue: the offered rate exceeds capacity; scale out before "
    "the burst or shed low-priority traffic.",
    "generator_bound": "The load generator hit its in-flight cap: run it with more "
    "--max-inflight or split the load over several processes.",
}


def recommendations(report: dict[str, Any]) -> list[str]:
    out = [_ADVICE[b["kind"]] for b in report["bottlenecks"]]
    checks = report["sla"]["checks"]
    if not checks["recall"]["ok"]:
        out.append("Recall is under target: raise ef_search (or m) on the collection.")
    if not checks["p99_ms"]["ok"] and not out:
        out.append("p99 is over the SLA with no single bottleneck: profile the search path.")
    if any(a["kind"] == "latency_spike" for a in report["anomalies"]):
        out.append("Latency spikes in some windows: check pauses (GC, snapshots, fsync).")
    return list(dict.fromkeys(out)) or ["No change needed at this load."]


def events(result: dict[str, Any]) -> list[dict[str, Any]]:
    """Injected failures and recoveries as chart markers: when each began, and what."""
    failures = result.get("failures") or {}
    return [
        {"t": e["started"], "label": f"{e['action']} {e['region']}"}
        for e in failures.get("events", [])
    ]


def analyze(result: dict[str, Any]) -> dict[str, Any]:
    summary, sla, server = result["summary"], result["scenario"]["sla"], result["server"]
    report: dict[str, Any] = {
        "sla": sla_compliance(summary, sla),
        "anomalies": anomalies(result["timeline"]),
        "bottlenecks": bottlenecks(summary, server),
        "score": score(summary, sla, server),
        "events": events(result),
    }
    report["grade"] = grade(report["score"]["overall"])
    report["recommendations"] = recommendations(report)
    return report


def _change(a: float, b: float) -> float:
    return 0.0 if a == 0 else 100.0 * (b - a) / a


def compare(a: dict[str, Any], b: dict[str, Any]) -> dict[str, Any]:
    """B relative to A: percent changes and which are improvements."""
    sa, sb = a["summary"], b["summary"]
    rows = {
        "p99_ms": (sa["latency"]["p99"], sb["latency"]["p99"], "lower"),
        "p50_ms": (sa["latency"]["p50"], sb["latency"]["p50"], "lower"),
        "qps": (sa["qps"], sb["qps"], "higher"),
        "error_pct": (sa["error_pct"], sb["error_pct"], "lower"),
        "recall": (sa["recall"], sb["recall"], "higher"),
    }
    out: dict[str, Any] = {}
    better = worse = 0
    for name, (va, vb, direction) in rows.items():
        change = _change(va, vb)
        improved = change < 0 if direction == "lower" else change > 0
        if change:
            better += improved
            worse += not improved
        out[name] = {"a": va, "b": vb, "change_pct": change, "improved": improved and bool(change)}
    verdict = "improvement" if better > worse else "regression" if worse > better else "mixed"
    return {"metrics": out, "verdict": verdict}
