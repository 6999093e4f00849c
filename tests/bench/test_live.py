"""Short scenarios against a real node process: the report agrees with the server.

Every test here drives real sockets on 127.0.0.1 against ``ruvstream serve``.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx
import pytest
from hdrh.histogram import HdrHistogram

from ruvstream.bench import datasets
from ruvstream.bench.histograms import summarize
from ruvstream.bench.loadgen import LoadResult
from ruvstream.bench.runner import RunConfig, ScenarioUnavailableError, execute
from ruvstream.bench.scenarios import LocalScale
from ruvstream.bench.scrape import parse_metrics, total
from ruvstream.bench.streams import StreamPool, source_address
from ruvstream.bench.target import prepare
from ruvstream.testing import NodeProcess, running_node


def _config(node: NodeProcess, tmp_path: Path, **kw: object) -> RunConfig:
    options: dict[str, object] = {
        "scenario": "baseline_100m",
        "url": node.url,
        "out_dir": tmp_path,
        "queries": 200,
        "scale": LocalScale(seconds=2.0),
        "rate": 60.0,
        "streams": 10,
    }
    options.update(kw)
    return RunConfig(**options)  # type: ignore[arg-type]


def _server_count(node: NodeProcess, name: str, **labels: str) -> float:
    return total(parse_metrics(httpx.get(f"{node.url}/metrics").text), name, **labels)


@pytest.mark.parametrize("protocol", ["http", "sse", "ws"])
async def test_report_counts_agree_with_the_server(
    node: NodeProcess, tmp_path: Path, protocol: str
) -> None:
    http_before = _server_count(
        node, "ruvstream_http_requests_total", route="/v1/collections/{name}/search"
    )
    result = await execute(_config(node, tmp_path, protocol=protocol))
    s = result["summary"]
    assert s["ok"] > 30 and s["failed"] == 0 and s["dropped"] == 0
    assert s["ok"] + s["failed"] + s["dropped"] == s["scheduled"]
    assert s["server_searches"] == s["searches_ok"] == s["ok"]
    http_after = _server_count(
        node, "ruvstream_http_requests_total", route="/v1/collections/{name}/search"
    )
    expected_http = 0 if protocol == "ws" else s["ok"]
    assert http_after - http_before == expected_http
    assert s["recall"] > 0.9
    assert result["latency"]["by_key"][0]["protocol"] == protocol


async def test_http2_scenarios_refuse_a_node_without_http2(
    node: NodeProcess, tmp_path: Path
) -> None:
    with pytest.raises(ScenarioUnavailableError, match="--http2"):
        await execute(_config(node, tmp_path, protocol="http2"))


async def test_http2_runs_every_request_over_h2c(bench_cache: Path, tmp_path: Path) -> None:
    data = datasets.load("glove-10k", queries=200, k=10)
    with running_node(tmp_path / "h2-node", args=["--http2"]) as h2_node:
        await prepare(h2_node.url, "bench", data)
        result = await execute(_config(h2_node, tmp_path, protocol="http2"))
    assert result["latency"]["by_key"][0]["protocol"] == "http2"
    assert result["notes"] == []
    # A search answered over HTTP/1.1 fails as not_http2: none did.
    assert result["summary"]["failed"] == 0
    assert result["summary"]["ok"] == result["summary"]["server_searches"] > 30


async def test_mixed_reads_and_writes_are_counted_per_operation(
    node: NodeProcess, tmp_path: Path
) -> None:
    writes_before = _server_count(node, "ruvstream_writes_total")
    result = await execute(_config(node, tmp_path, scenario="balanced_workload"))
    by_op = {row["op"]: row["summary"]["count"] for row in result["latency"]["by_key"]}
    assert by_op["search"] > 10 and by_op["upsert"] > 10
    assert result["summary"]["server_searches"] == by_op["search"]
    assert _server_count(node, "ruvstream_writes_total") - writes_before == by_op["upsert"]
    # writes re-upsert base rows with their own vectors: the ground truth still holds
    assert result["summary"]["recall"] > 0.9


async def test_percentiles_in_the_report_come_from_the_histograms(
    node: NodeProcess, tmp_path: Path
) -> None:
    result = await execute(_config(node, tmp_path))
    row = result["latency"]["by_key"][0]
    decoded = HdrHistogram.decode(row["hdr"].encode())
    assert summarize(decoded) == row["summary"]
    assert result["summary"]["latency"] == result["latency"]["overall"]
    assert decoded.get_total_count() == result["summary"]["ok"]


def _stall_for(load: LoadResult, now: float) -> float:
    """How long to stall the node: long against this run's own latency so far.

    1.2 s, or ten times the worst p99 of the windows already over if that is
    longer (on a busy machine the latency a stall must stand out from is
    higher too), at most 3 s so the stalled windows stay a minority of the
    run's ten: the anomaly is judged against the median window.
    """
    over = [w["p99"] / 1000 for w in load.timeline.series() if w["t"] + 1.0 <= now]
    return min(3.0, max(1.2, 10 * max(over, default=0.0)))


async def test_a_stalled_server_shows_up_as_latency_not_missing_samples(
    node: NodeProcess, tmp_path: Path
) -> None:
    config = _config(
        node,
        tmp_path,
        scenario="soak",
        scale=LocalScale(seconds=10.0),
        rate=40.0,
        streams=0,
        poisson=False,
    )
    loop = asyncio.get_running_loop()
    paused: list[float] = []

    def stall_once(t: float, load: LoadResult) -> None:
        """SIGSTOP the node 1.5 s into the load, SIGCONT it after ``_stall_for``."""
        if t >= 1.5 and not paused:
            paused.append(_stall_for(load, t))
            node.pause()
            loop.call_later(paused[0], node.resume)

    run = asyncio.create_task(execute(config, stall_once))
    result = await run
    s = result["summary"]
    assert s["failed"] == 0 and s["dropped"] == 0
    assert s["ok"] == s["scheduled"]  # every intended request has a sample
    assert s["latency"]["max"] >= 1000.0  # ms: the stall is in the latency
    slow = [w for w in result["timeline"] if w["p99"] >= 500.0]
    assert slow, "the windows sent during the stall carry the delay"
    assert sum(w["ok"] for w in slow) >= 20
    kinds = {a["kind"] for a in result["analysis"]["anomalies"]}
    assert "latency_spike" in kinds


async def test_held_streams_spread_over_source_addresses(node: NodeProcess) -> None:
    def ws_open() -> float:
        return _server_count(node, "ruvstream_connections", protocol="websocket")

    before = ws_open()
    pool = StreamPool("127.0.0.1", node.port)
    # three source addresses with a small per-address share, as at scale with 20k each
    import ruvstream.bench.streams as streams

    original = streams._STREAMS_PER_ADDRESS
    streams._STREAMS_PER_ADDRESS = 100
    try:
        await pool.resize(300)
        assert pool.size == 300 and not pool.failures
        assert await asyncio.to_thread(ws_open) - before == 300
        await pool.resize(120)
        assert pool.size == 120
    finally:
        await pool.aclose()
        streams._STREAMS_PER_ADDRESS = original
    assert source_address(0, 100) == "127.0.0.2" and source_address(250, 100) == "127.0.0.4"
    for _ in range(100):
        if await asyncio.to_thread(ws_open) == before:
            break
        await asyncio.sleep(0.05)
    assert await asyncio.to_thread(ws_open) == before


async def test_closed_loop_runs_and_measures_from_the_actual_send(
    node: NodeProcess, tmp_path: Path
) -> None:
    result = await execute(_config(node, tmp_path, closed_workers=4, streams=0))
    s = result["summary"]
    assert result["mode"] == "closed"
    assert s["ok"] > 10 and s["server_searches"] == s["ok"]


async def test_scenarios_needing_regions_are_refused(node: NodeProcess, tmp_path: Path) -> None:
    with pytest.raises(ScenarioUnavailableError, match="regions"):
        await execute(_config(node, tmp_path, scenario="regional_failover"))


async def test_only_loopback_targets(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="loopback"):
        await execute(RunConfig("baseline_100m", "http://10.1.2.3:8470", tmp_path))
