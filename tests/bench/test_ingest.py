"""The streaming-ingest case against a real node: every reported field is sane."""

from __future__ import annotations

import asyncio
import math
from pathlib import Path

import httpx
import numpy as np
import pytest

from ruvstream.bench.glove import glove50
from ruvstream.bench.ingest import IngestConfig, prefix_recall, run_case
from ruvstream.bench.peers import RuvstreamEngine
from ruvstream.index.exact import prepare
from ruvstream.testing import running_node

ROWS = 600


def test_prefix_recall_counts_only_rows_inside_the_prefix() -> None:
    rng = np.random.default_rng(3)
    base = prepare(rng.standard_normal((50, 8)).astype(np.float32), "cosine")
    queries = prepare(rng.standard_normal((3, 8)).astype(np.float32), "cosine")
    truth = [np.argsort(-(base[:20] @ q))[:5].tolist() for q in queries]
    exact = [(row, 20, [str(i) for i in truth[row]]) for row in range(3)]
    assert prefix_recall(base, queries, exact, 5) == 1.0
    # A row past the prefix (in flight when the query was sent) earns nothing.
    beyond = [(0, 20, ["45", *[str(i) for i in truth[0][:4]]])]
    assert prefix_recall(base, queries, beyond, 5) == pytest.approx(0.8)
    assert prefix_recall(base, queries, [], 5) == 0.0


@pytest.mark.usefixtures("bench_cache")
def test_the_ingest_case_reports_every_field_against_a_real_node(tmp_path: Path) -> None:
    raw_base, raw_queries = glove50(ROWS, 40)
    base, queries = prepare(raw_base, "cosine"), prepare(raw_queries, "cosine")
    config = IngestConfig(
        rate=300.0, clients=2, serial_queries=20, window_seconds=0.5, probe_every=25
    )
    with running_node(tmp_path / "node") as node:
        engine = RuvstreamEngine(url=node.url, server_pid=node.pid)
        report = asyncio.run(run_case(engine, base, queries, config))
        with httpx.Client(base_url=node.url) as http:
            assert http.get("/v1/collections/peers").json()["count"] == ROWS

    assert [s["target"] for s in report["stages"]] == [0.5, 0.8, 1.0]
    for stage in report["stages"]:
        assert stage["inserted"] >= math.ceil(stage["target"] * ROWS) - 1
        serial = stage["serial"]
        assert serial["answered"] + serial["failed"] == serial["queries"] == 20
        assert 0.0 <= serial["recall"] <= 1.0 and serial["recall"] > 0.5
        assert serial["latency"]["count"] == serial["answered"]
        concurrent = stage["concurrent"]
        assert concurrent["ok"] > 0 and concurrent["qps"] > 0
        assert 0.0 <= concurrent["failure_rate"] <= 1.0
    assert report["stages"][-1]["inserted"] == ROWS

    ingest = report["ingest"]
    assert ingest["ok"] + ingest["failed"] == ROWS and ingest["failed"] == 0
    assert ingest["latency"]["count"] == math.ceil(ROWS / config.batch)  # one per request
    assert ingest["latency"]["max"] >= ingest["latency"]["p99"] >= ingest["latency"]["p50"] > 0
    assert ingest["ideal_seconds"] == pytest.approx(ROWS / 300.0)
    # Ingest time ends at the last acknowledgement, not after the last stage's window.
    assert ingest["ideal_seconds"] * 0.9 < ingest["actual_seconds"]
    assert ingest["actual_seconds"] < report["elapsed_seconds"] - config.window_seconds

    seen = report["searchable_after_insert"]
    assert seen["probes"] == ROWS // 25
    assert seen["found"] + seen["not_found"] == seen["probes"] and seen["found"] > 0
    assert seen["latency"]["count"] == seen["found"]

    searches = report["searches"]
    assert searches["latency"]["count"] == searches["ok"] > 0
    assert searches["failed"] == 0
    assert report["server_cpu_seconds"] > 0
