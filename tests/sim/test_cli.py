"""``ruvstream sim`` end to end: its files, its flags over the config, its refusals."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from ruvstream.cli.main import main


def _config(tmp_path: Path, **fields: object) -> Path:
    path = tmp_path / "sim.json"
    path.write_text(json.dumps({"tick_seconds": 60, "traffic": {"streams": 20e6}, **fields}))
    return path


def test_sim_writes_json_markdown_and_html_with_the_promised_fields(tmp_path: Path) -> None:
    out, md, page = tmp_path / "run.json", tmp_path / "run.md", tmp_path / "run.html"
    result = CliRunner().invoke(
        main,
        [
            "sim",
            "region-failure",
            "--seed",
            "4",
            "--config",
            str(_config(tmp_path)),
            "--platform",
            "vm-pool",
            "--json",
            str(out),
            "--md",
            str(md),
            "--html",
            str(page),
        ],
    )
    assert result.exit_code == 0, result.output
    doc = json.loads(out.read_text())
    assert doc["scenario"] == "region-failure" and doc["seed"] == 4
    assert doc["config"]["platform"]["name"] == "vm-pool"  # the flag wins over the file
    assert doc["config"]["traffic"]["streams"] == 20e6  # the file's figure stays
    assert doc["served"] + doc["shed"] == doc["offered"]
    assert len(doc["instances_peak"]) == 15
    assert 'id="chart-instances"' in page.read_text()
    text = md.read_text()
    assert "# Simulation:" in text and "| europe-west1 |" in text
    assert "500M streams on 5,000 instances" in text
    assert "| baseline | $4,026,500 | $4,026,500 |" in text
    assert "peak" in result.output and "a month" in result.output


def test_a_config_with_an_unknown_field_is_refused_naming_it(tmp_path: Path) -> None:
    bad = _config(tmp_path, traffic={"streams": 1e6, "viewers": 3})
    result = CliRunner().invoke(main, ["sim", "baseline", "--config", str(bad)])
    assert result.exit_code == 2
    assert "viewers" in result.output


def test_a_negative_stream_count_is_refused(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["sim", "baseline", "--streams", "-5"])
    assert result.exit_code == 2
    assert "streams" in result.output
