"""The HTML report: self-contained (plotly.js inline, no network), its charts present,
and drawn by real headless Chromium when the machine has Debian's chromium."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from ruvstream.sim import simulate
from ruvstream.sim._html import CHARTS, REGION_CHARTS, TIER_CHARTS, html
from tests.browser import offline_page

from .conftest import short, small


@pytest.fixture(scope="module")
def page(tmp_path_factory: pytest.TempPathFactory) -> Path:
    doc = simulate(short("region-failure", duration=900.0), 2, small()).doc
    path = tmp_path_factory.mktemp("html") / "report.html"
    path.write_text(html(doc))
    return path


def test_the_page_carries_plotly_inline_and_loads_nothing_from_anywhere(page: Path) -> None:
    text = page.read_text()
    assert len(text) > 1_000_000  # plotly.js itself is inside
    assert "plotly.js v" in text or "Plotly" in text
    assert not re.search(r"<script[^>]+src=", text)
    assert not re.search(r"<link[^>]+href=\"https?:", text)


def test_every_chart_is_there_with_a_trace_per_region(page: Path) -> None:
    text = page.read_text()
    for div_id, *_ in (*CHARTS, *REGION_CHARTS):
        assert f'id="{div_id}"' in text, div_id
    assert all(f'id="{div_id}"' in text for div_id in TIER_CHARTS)
    charts = len(CHARTS) + len(REGION_CHARTS) + len(TIER_CHARTS)
    assert text.count("Plotly.newPlot(") == charts
    assert text.count('"name":"premium"') == len(TIER_CHARTS)
    assert "shed, premium tier" in text
    per_region = sum(1 for c in CHARTS if c[4])
    assert text.count('"name":"europe-west1"') == per_region
    assert "500M streams on 5,000 instances" in text


@pytest.mark.browser
def test_the_charts_render_in_chromium_without_errors_or_network(page: Path) -> None:
    with offline_page(page, timeout_ms=60_000) as (tab, problems):
        drawn = tab.eval_on_selector_all(
            ".plotly-graph-div",
            "ds => ds.map(d => [d.id, d.data.length, "
            "d.querySelectorAll('.scatterlayer .trace, .barlayer .trace').length])",
        )
    assert problems == []
    expected = {c[0]: (15 if c[4] else 1) for c in CHARTS}
    expected.update({c[0]: len(c[3]) for c in REGION_CHARTS})
    expected.update(dict.fromkeys(TIER_CHARTS, 3))
    assert {d[0]: d[1] for d in drawn} == expected
    assert all(d[2] == expected[d[0]] for d in drawn)  # every trace has its SVG layer


def test_a_sweep_page_has_a_chart_per_figure_and_nothing_remote() -> None:
    from ruvstream.sim._html import SWEEP_CHARTS, sweep_html
    from ruvstream.sim._sensitivity import sweep

    doc = sweep(short("baseline", duration=300.0), 0, small(), "platform", ["cloud-run", "vm-pool"])
    text = sweep_html(doc)
    assert text.count("Plotly.newPlot(") == len(SWEEP_CHARTS)
    assert all(f'id="{c[0]}"' in text for c in SWEEP_CHARTS)
    assert not re.search(r"<script[^>]+src=", text)
