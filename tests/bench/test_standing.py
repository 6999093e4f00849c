"""``ruvstream bench standing`` end to end, small: a real node, real WebSockets.

It checks what the benchmark reports (every count, matches that arrived,
ordered percentiles), never how fast this machine is.
"""

from __future__ import annotations

import json

from click.testing import CliRunner

from ruvstream.bench.cli import bench


def test_standing_benchmark_reports_each_count_and_its_matches() -> None:
    result = CliRunner().invoke(
        bench,
        [
            "standing",
            "--counts",
            "0,40",
            "--sockets",
            "3",
            "--seconds",
            "0.5",
            "--rate",
            "400",
            "--preload",
            "300",
            "--json",
        ],
        catch_exceptions=False,
    )
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout.strip().splitlines()[-1])
    assert [row["subscriptions"] for row in rows] == [0, 40]
    none, some = rows
    assert none["matches"] == 0 and none["ratio"] == 1.0
    assert some["matches"] > 0, "near records reach their standing queries"
    assert 0 <= some["notify"]["p50"] <= some["notify"]["p99"]
    assert some["records_per_s"] > 0
