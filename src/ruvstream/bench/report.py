"""Write a run's outputs: JSON (the full result), CSV (the timeline), Markdown.

``result.json`` is the source for everything else: ``report``, ``compare``
and the dashboard read it back, so a run can be re-analysed later without
re-running it.
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

from ruvstream.bench.dashboard import render

__all__ = ["FILES", "load_result", "to_csv", "to_markdown", "write_outputs"]

FILES = ("result.json", "timeline.csv", "report.md", "dashboard.html")
_CSV_FIELDS = (
    "t",
    "sent",
    "ok",
    "errors",
    "throughput",
    "p50",
    "p99",
    "max",
    "streams",
    "target_rate",
)


def load_result(path: Path) -> dict[str, Any]:
    """Read ``result.json`` from a file or a run directory."""
    if path.is_dir():
        path = path / "result.json"
    data: dict[str, Any] = json.loads(path.read_text())
    return data


def to_csv(result: dict[str, Any]) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=_CSV_FIELDS, extrasaction="ignore")
    writer.writeheader()
    for row in result["timeline"]:
        writer.writerow(row)
    return out.getvalue()


def _ms(v: float) -> str:
    return f"{v:.2f} ms"


def to_markdown(result: dict[str, Any]) -> str:
    s, a, sc = result["summary"], result["analysis"], result["scenario"]
    lat = s["latency"]
    lines = [
        f"# Benchmark: {sc['title']} (`{sc['name']}`)",
        "",
        f"Run `{result['run_id']}` at {result['started_at']} against {result['target']}, "
        f"{result['mode']} loop, protocol {sc['protocol']}, {result['seconds']:.1f} s, "
        f"dataset {result['dataset']} (k={result['k']}).",
        "",
        f"**Score {a['score']['overall']}/100 ({a['grade']})**, SLA "
        f"{'PASSED' if a['sla']['passed'] else 'FAILED'}.",
        "",
        "| metric | value |",
        "|---|---|",
        f"| requests ok / failed / dropped | {s['ok']} / {s['failed']} / {s['dropped']} |",
        f"| throughput | {s['qps']:.1f} q/s (target {s['target_qps']:.1f}) |",
        f"| latency p50 / p90 / p99 / p99.9 / max | {_ms(lat['p50'])} / {_ms(lat['p90'])} / "
        f"{_ms(lat['p99'])} / {_ms(lat['p999'])} / {_ms(lat['max'])} |",
        f"| recall@{result['k']} | {s['recall']:.4f} |",
        f"| peak streams held / planned | {s['streams_peak']} / {s['streams_planned_peak']} |",
        f"| load generator loop lag p99 | {_ms(s['generator_lag_ms']['p99'])} |",
        f"| server searches counted | {s['server_searches']:.0f} |",
        f"| cost per million queries | ${s['cost_per_million']:.4f} |",
        "",
        "## SLA",
        "",
        "| check | value | target | ok |",
        "|---|---|---|---|",
    ]
    for name, row in a["sla"]["checks"].items():
        mark = "yes" if row["ok"] else "NO"
        lines.append(f"| {name} | {row['value']:.4g} | {row['target']:.4g} | {mark} |")
    lines += [
        "",
        "## Latency by operation",
        "",
        "| op | protocol | region | count | p50 | p99 | max |",
        "|---|---|---|---|---|---|---|",
    ]
    for row in result["latency"]["by_key"]:
        m = row["summary"]
        lines.append(
            f"| {row['op']} | {row['protocol']} | {row['region']} | {m['count']:.0f} | "
            f"{_ms(m['p50'])} | {_ms(m['p99'])} | {_ms(m['max'])} |"
        )
    if s["errors"]:
        lines += ["", "## Errors", ""] + [f"- `{c}`: {n}" for c, n in s["errors"].items()]
    lines += ["", "## Bottlenecks", ""]
    lines += [f"- **{b['kind']}**: {b['detail']}" for b in a["bottlenecks"]] or ["- none found"]
    lines += ["", "## Anomalies", ""]
    lines += [
        f"- t={x['t']:.0f}s {x['kind']} ({x['severity']}): {x['value']:.3g} > {x['threshold']:.3g}"
        for x in a["anomalies"]
    ] or ["- none"]
    for phase in (result.get("failures") or {}).get("phases", []):
        if not lines[-1].startswith("- after"):
            lines += ["", "## Failures: answers per region", ""]
        served = ", ".join(f"{r} {n:.0f}" for r, n in phase["served"].items())
        lines.append(f"- after {phase['after']} (t={phase['from']:.1f}s): {served}")
    lines += ["", "## Recommendations", ""] + [f"- {r}" for r in a["recommendations"]]
    return "\n".join(lines) + "\n"


def write_outputs(result: dict[str, Any], run_dir: Path) -> list[Path]:
    """Write the four files of a run; returns their paths (FILES order)."""
    run_dir.mkdir(parents=True, exist_ok=True)
    texts = (
        json.dumps(result, indent=1, sort_keys=True),
        to_csv(result),
        to_markdown(result),
        render(result),
    )
    paths = []
    for name, text in zip(FILES, texts, strict=True):
        path = run_dir / name
        path.write_text(text)
        paths.append(path)
    return paths
