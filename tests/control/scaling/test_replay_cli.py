"""``ruvstream scale replay`` end to end on a small trace, and its refusals."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from ruvstream.cli.main import main

START = 1_800_000_000.0


def write_inputs(tmp_path: Path) -> tuple[Path, Path, Path]:
    trace = tmp_path / "trace.csv"
    lines = ["t_seconds,region,offered_qps,streams"]
    for t in range(0, 1201, 20):
        burst = 10.0 if 600 <= t < 900 else 1.0
        lines.append(f"{t},us-central1,{700 * burst},{200 * burst}")
        lines.append(f"{t},europe-west1,350,100")
    trace.write_text("\n".join(lines) + "\n")
    calendar = tmp_path / "events.json"
    calendar.write_text(
        json.dumps(
            {
                "events": [
                    {
                        "id": "launch",
                        "type": "promotion",
                        "start": START + 600,
                        "regions": ["us-central1"],
                    },
                ]
            }
        )
    )
    config = tmp_path / "config.json"
    config.write_text(
        json.dumps(
            {
                "node": {
                    "qps_per_instance": 100,
                    "streams_per_instance": 1000,
                    "startup_seconds": 20,
                },
                "regions": {"us-central1": {"max_instances": 60}},
                "budget": {"hourly_dollars": 25},
                "simulation": {"quota": {"europe-west1": 8}},
            }
        )
    )
    return trace, calendar, config


def test_replay_writes_every_tick_and_accounts_for_every_request(tmp_path: Path) -> None:
    trace, calendar, config = write_inputs(tmp_path)
    out = tmp_path / "out.json"
    result = CliRunner().invoke(
        main,
        [
            "scale",
            "replay",
            str(trace),
            "--calendar",
            str(calendar),
            "--config",
            str(config),
            "--json",
            str(out),
            "--start",
            str(START),
        ],
    )
    assert result.exit_code == 0, result.output
    doc = json.loads(out.read_text())
    ticks = doc["ticks"]
    assert len(ticks) == 2 * (1200 // 2 + 1)
    for k in ticks:
        assert k["served"] + k["shed"] == k["offered"]
        assert set(k) >= {
            "offered_qps",
            "desired",
            "running",
            "level",
            "shed_share",
            "spend_dollars",
            "reason",
        }
    us = [k for k in ticks if k["region"] == "us-central1"]
    assert max(k["desired"] for k in us) <= 60  # the region's limit
    assert any(k["desired"] > 10 and k["t"] < 600 for k in us)  # pre-warmed for the launch
    assert any(k["level"] != "none" for k in ticks)  # $25/h cannot buy the burst
    assert doc["summary"]["cost_dollars"] > 0
    assert "cost $" in result.output


def test_replay_refuses_a_bad_trace_naming_the_line(tmp_path: Path) -> None:
    trace = tmp_path / "trace.csv"
    trace.write_text(
        "t_seconds,region,offered_qps,streams\n0,us-central1,10,1\n5,us-central1,x,1\n"
    )
    result = CliRunner().invoke(
        main, ["scale", "replay", str(trace), "--json", str(tmp_path / "o.json")]
    )
    assert result.exit_code != 0
    assert "trace.csv:3: offered_qps is not a number" in result.output


def test_plan_is_a_dry_run_listing_prewarm_times(tmp_path: Path) -> None:
    _, calendar, config = write_inputs(tmp_path)
    result = CliRunner().invoke(
        main,
        [
            "scale",
            "plan",
            "--calendar",
            str(calendar),
            "--config",
            str(config),
            "--at",
            str(START),
            "--json",
        ],
    )
    assert result.exit_code == 0, result.output
    rows = json.loads(result.output)
    assert [(r["event"], r["region"]) for r in rows] == [("launch", "us-central1")]
    assert rows[0]["prewarm_at"] < rows[0]["start"]


def test_check_calendar_refuses_a_bad_file(tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"events": [{"id": "a", "type": "gala", "start": 0}]}))
    result = CliRunner().invoke(main, ["scale", "check-calendar", str(bad)])
    assert result.exit_code != 0 and "unknown type 'gala'" in result.output
