"""The command line end to end, and the dashboard rendered in real headless Chromium."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from ruvstream.bench.cli import bench
from ruvstream.bench.report import FILES
from ruvstream.bench.scenarios import SCENARIOS
from ruvstream.testing import NodeProcess
from tests.browser import offline_page


@pytest.fixture(scope="module")
def run_dirs(node: NodeProcess, tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    """Two short runs through the CLI (HTTP and WebSocket), each a run directory."""
    out = tmp_path_factory.mktemp("runs")
    runner = CliRunner()
    for protocol in ("http", "ws"):
        result = runner.invoke(
            bench,
            [
                "run",
                "baseline_100m",
                "--url",
                node.url,
                "--out",
                str(out),
                "--queries",
                "200",
                "--seconds",
                "3",
                "--rate",
                "50",
                "--streams",
                "20",
                "--protocol",
                protocol,
            ],
        )
        assert result.exit_code in (0, 99), result.output
        assert "server searches" in result.output
    dirs = sorted(p for p in out.iterdir() if p.is_dir())
    assert len(dirs) == 2
    return dirs


def test_run_writes_the_four_outputs(run_dirs: list[Path]) -> None:
    for run_dir in run_dirs:
        assert sorted(p.name for p in run_dir.iterdir()) == sorted(FILES)
        result = json.loads((run_dir / "result.json").read_text())
        assert result["summary"]["ok"] == result["summary"]["server_searches"]
        csv_lines = (run_dir / "timeline.csv").read_text().splitlines()
        assert csv_lines[0].startswith("t,sent,ok,errors") and len(csv_lines) >= 4
        assert "## SLA" in (run_dir / "report.md").read_text()


def test_report_and_compare_commands(run_dirs: list[Path]) -> None:
    runner = CliRunner()
    md = runner.invoke(bench, ["report", str(run_dirs[0])])
    assert md.exit_code == 0 and "# Benchmark: Baseline 100M concurrent" in md.output
    as_json = runner.invoke(bench, ["report", str(run_dirs[0] / "result.json"), "--format", "json"])
    assert set(json.loads(as_json.output)) >= {"sla", "score", "bottlenecks", "recommendations"}
    diff = runner.invoke(bench, ["compare", str(run_dirs[0]), str(run_dirs[1]), "--json"])
    assert diff.exit_code == 0
    assert json.loads(diff.output)["verdict"] in {"improvement", "regression", "mixed"}


def test_list_and_refused_scenario(node: NodeProcess, tmp_path: Path) -> None:
    runner = CliRunner()
    listing = runner.invoke(bench, ["list"], env={"COLUMNS": "200"})
    assert listing.exit_code == 0 and "black_friday" in listing.output
    refused = runner.invoke(bench, ["run", "world_cup", "--url", node.url, "--out", str(tmp_path)])
    assert refused.exit_code == 2


def test_the_list_is_readable_at_80_columns() -> None:
    listing = CliRunner().invoke(bench, ["list"], env={"COLUMNS": "80"})
    assert listing.exit_code == 0
    lines = listing.output.splitlines()
    assert max(len(line) for line in lines) <= 80
    assert "…" not in listing.output  # nothing cut to a stub
    for scenario in SCENARIOS.values():
        row = next(line for line in lines if line.startswith(scenario.name + " "))
        assert f"{scenario.sla.p99_ms:.0f} ms" in row and scenario.protocol in row.split()
        assert any(scenario.title in line for line in lines)
        assert all(need in listing.output for need in scenario.requires)


@pytest.mark.browser
def test_dashboard_renders_in_chromium_without_console_errors(run_dirs: list[Path]) -> None:
    dashboard = run_dirs[0] / "dashboard.html"
    with offline_page(dashboard, timeout_ms=15_000) as (page, problems):
        charts = page.eval_on_selector_all(
            "svg.chart",
            "els => els.map(e => [e.id, [...e.querySelectorAll('path.line')]"
            ".map(p => p.getAttribute('d').length)])",
        )
        cards = page.inner_text("#cards")
        titles = page.eval_on_selector_all(
            "svg.chart",
            "els => Object.fromEntries(els.map(e => [e.id, Object.fromEntries("
            "[...e.querySelectorAll('text.axis-title')]"
            ".map(t => [t.dataset.axis, t.textContent]))]))",
        )
        server_axes = page.eval_on_selector_all(
            "#chart-server path.line", "ps => ps.map(p => [p.dataset.name, p.dataset.axis])"
        )
    assert problems == []
    assert {c[0] for c in charts} == {
        "chart-latency",
        "chart-throughput",
        "chart-errors",
        "chart-streams",
        "chart-server",
    }
    for chart_id, lengths in charts:
        assert lengths and all(n > 10 for n in lengths), chart_id
    assert "p99" in cards and "recall" in cards
    for chart_id, axis_titles in titles.items():  # every chart says what its axes measure
        assert axis_titles["x"] == "time into the run (s)", chart_id
        assert axis_titles["y"], chart_id
    assert titles["chart-latency"]["y"] == "latency (ms)"
    # CPU and memory each on an axis of its own unit, not RSS's range flattening CPU
    assert dict(server_axes) == {"CPU %": "y", "RSS MB": "y2"}
    assert titles["chart-server"]["y"].startswith("CPU") and "MB" in titles["chart-server"]["y2"]


def test_http2_run_spawns_an_http2_node_and_refuses_one_without(
    node: NodeProcess, tmp_path: Path
) -> None:
    short = ["--queries", "200", "--seconds", "2", "--rate", "30", "--streams", "5"]
    runner = CliRunner()
    spawned = runner.invoke(
        bench, ["run", "baseline_100m", "--protocol", "http2", "--out", str(tmp_path), *short]
    )
    assert spawned.exit_code in (0, 99), spawned.output
    assert "server searches" in spawned.output
    refused = runner.invoke(
        bench,
        ["run", "baseline_100m", "--url", node.url, "--protocol", "http2", "--out", str(tmp_path)],
    )
    assert refused.exit_code == 2 and "--http2" in refused.output
