"""``ruvstream bench profile`` on a real node, and the node profile the simulator reads."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from ruvstream.bench.cli import bench
from ruvstream.bench.glove import glove_available
from ruvstream.bench.profile import p99_curve
from ruvstream.sim import DEFAULT_PROFILE, PLATFORMS, NodeProfile, capacity


def test_the_p99_curve_only_rises_even_when_an_overloaded_level_measures_less() -> None:
    rows = [
        {"clients": 1, "load": 0.3, "p99_ms": 15.0},
        {"clients": 4, "load": 1.0, "p99_ms": 16.0},
        {"clients": 16, "load": 0.6, "p99_ms": 70.0},  # past saturation, a busy machine
        {"clients": 2, "load": 0.6, "p99_ms": 14.0},
    ]
    assert p99_curve(rows) == [[0.3, 15.0], [0.6, 15.0], [1.0, 70.0]]


def test_the_checked_in_profile_was_measured_by_the_command_and_sizes_each_platform() -> None:
    p = DEFAULT_PROFILE
    assert p.command.startswith("ruvstream bench profile")
    assert p.qps_per_core > 0 and 0.9 <= p.recall_at_10 <= 1.0 and p.streams_per_gb > 0
    run = capacity(p, PLATFORMS["cloud-run"])
    assert run.streams_per_instance <= 1000  # Cloud Run's concurrency ceiling
    assert run.qps_per_instance == p.qps_per_core * 4
    pool = capacity(p, PLATFORMS["vm-pool"])
    assert pool.streams_per_instance > run.streams_per_instance
    assert pool.startup_seconds > run.startup_seconds


def test_a_profile_with_a_missing_field_is_refused_by_name(tmp_path: Path) -> None:
    doc = DEFAULT_PROFILE.to_json()
    del doc["streams_per_gb"]
    bad = tmp_path / "p.json"
    bad.write_text(json.dumps(doc))
    with pytest.raises(ValueError, match="streams_per_gb"):
        NodeProfile.load(bad)


@pytest.mark.slow
def test_bench_profile_measures_a_real_node_and_writes_a_readable_profile(
    tmp_path: Path,
) -> None:
    if not glove_available():
        pytest.skip("GloVe vectors are not installed")
    out = tmp_path / "profile.json"
    result = CliRunner().invoke(
        bench, ["profile", "--n", "2000", "--seconds", "0.5", "--streams", "20", "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    p = NodeProfile.load(out)
    assert p.vectors == 2000 and p.dim == 50
    assert p.qps_per_core > 0 and p.recall_at_10 > 0.9
    assert p.startup_seconds > 0 and p.index_load_seconds >= 0 and p.streams_per_gb > 0
    loads = [a for a, _ in p.p99_ms_by_load]
    assert loads == sorted(loads) and loads[-1] == 1.0
