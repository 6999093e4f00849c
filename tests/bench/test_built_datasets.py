"""Sets built here (minilm-384): stored as real files, read back with exact truth, and clear
one-line errors from every command when a set is not built or the build extra is missing.

The vectors are made with numpy: storing and reading a set needs no model, so these run
without torch; the one test that embeds skips without the extra 'embed'.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from ruvstream.bench import built, datasets, minilm
from ruvstream.bench.cli import bench

NAME = "minilm-384"


def _save(cache: Path, rows: int = 300, queries: int = 12) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(7)
    base = rng.standard_normal((rows, 384)).astype(np.float32) * 3.0
    query = rng.standard_normal((queries, 384)).astype(np.float32)
    texts = {"queries": [f"q{i}" for i in range(queries)], "base": [f"b{i}" for i in range(rows)]}
    built.save(NAME, base, query, {"corpus": {"python": "3.x"}}, cache, texts)
    return base, query


def test_a_saved_set_loads_normalised_with_exact_truth(tmp_path: Path) -> None:
    raw_base, _ = _save(tmp_path)
    data = datasets.load(NAME, queries=10, k=5, cache=tmp_path)
    assert data.base.shape == (300, 384) and data.queries.shape == (10, 384)
    assert data.dim == 384 and data.metric == "cosine"
    assert np.allclose(np.linalg.norm(data.base, axis=1), 1.0, atol=1e-5)
    unit = raw_base / np.linalg.norm(raw_base, axis=1, keepdims=True)
    assert np.allclose(data.base, unit, atol=1e-6), "rows keep their order"
    scores = data.queries @ data.base.T
    for q in range(10):
        assert data.truth[q].tolist() == np.argsort(-scores[q])[:5].tolist()
    meta = json.loads((built.where(NAME, tmp_path) / "meta.json").read_text())
    assert meta["rows"] == 300 and meta["queries"] == 12 and meta["truth_k"] == 100
    assert meta["corpus"] == {"python": "3.x"}
    texts = json.loads((built.where(NAME, tmp_path) / "texts.json").read_text())
    assert texts["base"][299] == "b299"


def test_a_rebuild_replaces_the_set_whole(tmp_path: Path) -> None:
    _save(tmp_path, rows=300)
    _save(tmp_path, rows=120, queries=4)
    base, queries = datasets.vectors(NAME, cache=tmp_path)
    assert base.shape == (120, 384) and queries.shape == (4, 384)
    assert [p.name for p in (tmp_path / "datasets").iterdir()] == [NAME], "no work dirs left"


def test_vectors_take_a_prefix_and_at_most_the_built_queries(tmp_path: Path) -> None:
    _save(tmp_path)
    whole, _ = datasets.vectors(NAME, cache=tmp_path)
    base, queries = datasets.vectors(NAME, rows=40, queries=1000, cache=tmp_path)
    assert np.array_equal(base, whole[:40]) and len(queries) == 12


def test_asking_more_than_was_built_says_how_to_rebuild(tmp_path: Path) -> None:
    _save(tmp_path)
    with pytest.raises(ValueError, match="--queries 50"):
        datasets.load(NAME, queries=50, cache=tmp_path)


def test_an_unbuilt_set_names_the_command_that_builds_it(tmp_path: Path) -> None:
    with pytest.raises(datasets.DatasetNotBuiltError, match=f"bench dataset build {NAME}"):
        datasets.load(NAME, cache=tmp_path)
    with pytest.raises(datasets.DatasetUnavailableError):
        datasets.vectors(NAME, cache=tmp_path)


@pytest.fixture
def empty_cache(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    monkeypatch.setenv("RUVSTREAM_CACHE", str(tmp_path))
    return tmp_path


@pytest.mark.parametrize(
    "args",
    [
        ["standing", "--dataset", NAME, "--counts", "0"],
        ["ingest", "--dataset", NAME, "--rows", "100"],
        ["peers", "--dataset", NAME, "--engines", "ruvstream"],
    ],
    ids=["standing", "ingest", "peers"],
)
def test_commands_on_an_unbuilt_set_fail_in_one_line(empty_cache: Path, args: list[str]) -> None:
    result = CliRunner().invoke(bench, args)
    assert result.exit_code == 1, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and f"bench dataset build {NAME}" in lines[0], result.output


def test_dataset_list_says_what_is_built(empty_cache: Path) -> None:
    runner = CliRunner()
    assert "not built" in runner.invoke(bench, ["dataset", "list"]).output
    _save(empty_cache)
    listed = runner.invoke(bench, ["dataset", "list"]).output
    assert f"{NAME}: 300 rows, 12 queries, 384-d, Python 3.x stdlib" in listed


@pytest.mark.skipif(minilm.embed_available(), reason="the extra 'embed' is installed here")
def test_building_without_the_extra_fails_in_one_line(empty_cache: Path) -> None:
    result = CliRunner().invoke(bench, ["dataset", "build", NAME, "--rows", "10"])
    assert result.exit_code == 1
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and "extra 'embed'" in lines[0], result.output


@pytest.mark.slow
@pytest.mark.skipif(not minilm.embed_available(), reason="needs the extra 'embed'")
def test_a_small_real_build(empty_cache: Path) -> None:
    result = CliRunner().invoke(
        bench, ["dataset", "build", NAME, "--rows", "40", "--queries", "5"], catch_exceptions=False
    )
    assert result.exit_code == 0, result.output
    data = datasets.load(NAME, queries=5, k=10)
    assert data.base.shape == (40, 384)
    meta = json.loads((built.where(NAME, empty_cache) / "meta.json").read_text())
    assert meta["model"] == minilm.MODEL and meta["corpus"]["sentences"] > 10_000
    # real sentence embeddings: a query's best neighbour is far closer than random directions
    assert float((data.queries @ data.base.T).max(axis=1).mean()) > 0.2


def test_ingest_streams_a_built_set_into_a_real_node(empty_cache: Path) -> None:
    _save(empty_cache, rows=300, queries=12)
    out = empty_cache / "out"
    args = ["ingest", "--dataset", NAME, "--rows", "200", "--rate", "1000", "--clients", "2"]
    args += ["--window", "0.3", "--serial-queries", "10", "--out", str(out)]
    result = CliRunner().invoke(bench, args, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    (report,) = json.loads((out / "ingest.json").read_text())
    assert report["dataset"] == f"{NAME} first 200 rows" and report["dim"] == 384
    assert [s["inserted"] for s in report["stages"]][-1] == 200
