"""``ruvstream bench startup`` spawns real nodes: it times each to /health and /ready, and
the node it times loads the snapshot it was given."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
from click.testing import CliRunner

from ruvstream.bench.cli import bench
from ruvstream.bench.startup import COLLECTION
from ruvstream.control.scaling import NodeCapacity, PredictorConfig
from ruvstream.control.scaling.sizing import MEASURED_STARTUP_SECONDS
from ruvstream.testing import running_node


def test_startup_figures_per_snapshot_size(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        bench,
        ["startup", "--records", "0", "--records", "300", "--runs", "1", "--dim", "8",
         "--work-dir", str(tmp_path), "--json"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    rows = json.loads(result.output)
    assert [r["records"] for r in rows] == [0, 300]
    for row in rows:
        (run,) = row["runs"]
        assert 0 < run["health_seconds"] <= run["ready_seconds"] < 60
    with running_node(tmp_path / "records-300") as node:  # the snapshot really loads
        body = httpx.get(f"{node.url}/v1/collections/{COLLECTION}").json()
    assert body["count"] == 300


def test_the_predictors_default_lead_is_the_measured_start_up() -> None:
    assert NodeCapacity().startup_seconds == MEASURED_STARTUP_SECONDS
    assert MEASURED_STARTUP_SECONDS + PredictorConfig().prewarm_margin_seconds == 66.0
