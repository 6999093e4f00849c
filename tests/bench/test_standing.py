"""``ruvstream bench standing`` end to end, small: a real node, real WebSockets.

It checks what the benchmark reports (every count, matches that arrived,
ordered percentiles), never how fast this machine is.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from ruvstream.bench import built
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


def test_standing_benchmark_draws_queries_and_records_from_a_built_set(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("RUVSTREAM_CACHE", str(tmp_path))
    rng = np.random.default_rng(3)
    base = rng.standard_normal((500, 384)).astype(np.float32)
    built.save("minilm-384", base, base[:30] + 0.1, {"corpus": {}}, tmp_path)
    args = ["standing", "--dataset", "minilm-384", "--counts", "20", "--sockets", "2"]
    args += ["--seconds", "0.5", "--rate", "400", "--preload", "200", "--json"]
    result = CliRunner().invoke(bench, args, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    (row,) = json.loads(result.stdout.strip().splitlines()[-1])
    assert row["subscriptions"] == 20 and row["matches"] > 0 and row["records_per_s"] > 0
