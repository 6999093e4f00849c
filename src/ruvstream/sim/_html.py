"""A run as one self-contained HTML page: plotly.js inline, interactive charts, no network.

Charts (each a ``div`` with a fixed id, one trace per region where the
series is per region): instances, offered requests per second, shed share,
shed share by tier (a trace per tier), cost per hour and degradation level
over the run; bars of peak and wanted instances, SLO minutes and shed
requests by tier, per region. Above them the totals
and the original design's claims beside the run. The page marks
``body[data-rendered=true]`` once every chart is drawn, so a browser test
can wait for it. plotly is the extra ``sim``; without it ``html`` raises
``RuntimeError`` naming the extra.
"""

from __future__ import annotations

import html as _html
from collections.abc import Sequence
from typing import Any

from ._claims import claims

__all__ = ["CHARTS", "REGION_CHARTS", "SWEEP_CHARTS", "TIER_CHARTS", "html", "sweep_html"]

# Marks body[data-rendered=true] once every chart has drawn its SVG.
_RENDERED = (
    "<script>const done = setInterval(() => { const d = [...document.querySelectorAll("
    "'.plotly-graph-div')]; if (d.length && d.every(e => e.querySelector('.main-svg'))) "
    "{ clearInterval(done); document.body.dataset.rendered = 'true'; } }, 50);</script>"
)

# (div id, title, y-axis title, series key, per region)
CHARTS: tuple[tuple[str, str, str, str, bool], ...] = (
    ("chart-instances", "Instances per region (ready + starting)", "instances", "instances", True),
    ("chart-offered", "Offered load per region", "requests per second", "offered_qps", True),
    ("chart-shed", "Shed share per region", "share of offered", "shed_share", True),
    ("chart-cost", "Cost rate, all regions", "dollars per hour", "cost_per_hour", False),
    ("chart-level", "Degradation level (0 none .. 3 critical)", "level", "level", False),
)


# (div id, title, y-axis title, the per-region figures drawn side by side as bars)
REGION_CHARTS: tuple[tuple[str, str, str, tuple[str, ...]], ...] = (
    (
        "chart-region-instances",
        "Peak instances and instances wanted, by region",
        "instances",
        ("instances_peak", "instances_wanted_peak"),
    ),
    (
        "chart-region-slo",
        "SLO violation by region",
        "minutes",
        ("slo_violation_minutes_by_region",),
    ),
)


# One trace per tier: the shed share over the run, and shed requests stacked by region.
TIER_CHARTS = ("chart-shed-tier", "chart-region-tiers")


def _region_divs(doc: dict[str, Any]) -> list[str]:
    import plotly.graph_objects as go

    divs = []
    for div_id, title, y_title, keys in REGION_CHARTS:
        fig = go.Figure([go.Bar(x=list(doc[k]), y=list(doc[k].values()), name=k) for k in keys])
        fig.update_layout(title=title, yaxis_title=y_title, barmode="group", height=420)
        divs.append(_div(fig, div_id))
    return divs


def _tier_divs(doc: dict[str, Any]) -> list[str]:
    import plotly.graph_objects as go

    tiers, ser = list(doc["tiers"]), doc["series"]
    over_time = go.Figure(
        [
            go.Scatter(x=ser["t_minutes"], y=ser["shed_share_by_tier"][t], mode="lines", name=t)
            for t in tiers
        ]
    )
    over_time.update_layout(
        title="Shed share by tier, all regions",
        xaxis_title="minutes into the run",
        yaxis_title="share of the tier's offered",
        height=420,
    )
    by_region = doc["shed_by_tier_by_region"]
    regions = list(by_region)
    stacked = go.Figure(
        [go.Bar(x=regions, y=[by_region[r][t] for r in regions], name=t) for t in tiers]
    )
    stacked.update_layout(
        title="Shed requests by tier, by region",
        yaxis_title="requests",
        barmode="stack",
        height=420,
    )
    return [_div(over_time, TIER_CHARTS[0]), _div(stacked, TIER_CHARTS[1])]


def _div(fig: Any, div_id: str) -> str:
    html: str = fig.to_html(
        include_plotlyjs=False,
        full_html=False,
        div_id=div_id,
        config={"displaylogo": False, "responsive": True},
    )
    return html


def _figure_divs(doc: dict[str, Any]) -> list[str]:
    try:
        import plotly.graph_objects as go
    except ImportError:
        raise RuntimeError("the HTML report needs plotly: install the extra 'sim'") from None
    ser = doc["series"]
    x = ser["t_minutes"]
    divs = []
    for div_id, title, y_title, key, per_region in CHARTS:
        fig = go.Figure()
        lines = ser[key].items() if per_region else [(title, ser[key])]
        for name, y in lines:
            fig.add_trace(go.Scatter(x=x, y=y, mode="lines", name=name))
        fig.update_layout(
            title=title,
            xaxis_title="minutes into the run",
            yaxis_title=y_title,
            height=420,
            margin={"l": 70, "r": 20, "t": 50, "b": 50},
        )
        divs.append(
            fig.to_html(
                include_plotlyjs=False,
                full_html=False,
                div_id=div_id,
                config={"displaylogo": False, "responsive": True},
            )
        )
    return divs


def _table(rows: Sequence[tuple[str, ...]], head: tuple[str, ...]) -> str:
    cells = "".join(f"<th>{_html.escape(h)}</th>" for h in head)
    body = "".join(
        "<tr>" + "".join(f"<td>{_html.escape(c)}</td>" for c in row) + "</tr>" for row in rows
    )
    return f"<table><thead><tr>{cells}</tr></thead><tbody>{body}</tbody></table>"


def _totals(doc: dict[str, Any]) -> list[tuple[str, ...]]:
    ttc = doc["time_to_capacity_seconds"]
    per_stream = doc["cost_per_stream_month"]
    return [
        (f"offered ({doc['unit']})", f"{doc['offered']:,}"),
        ("shed", f"{doc['shed']:,} ({doc['shed_share']:.2%})"),
        *(
            (f"shed, {tier} tier", f"{f['shed']:,} ({f['shed_share']:.2%} of the tier)")
            for tier, f in doc["tiers"].items()
        ),
        ("SLO violation (region-minutes)", f"{doc['slo_violation_minutes']:,.1f}"),
        ("time to capacity", "never reached" if ttc is None else f"{ttc:,.0f} s"),
        ("peak instances", f"{doc['instances_peak_total']:,}"),
        ("cost of the run", f"${doc['cost_dollars']:,.0f}"),
        ("cost per month at this rate", f"${doc['cost_per_month']:,.0f}"),
        ("cost per stream-month", "n/a" if per_stream is None else f"${per_stream:.4f}"),
    ]


def html(doc: dict[str, Any]) -> str:
    # _figure_divs first: it names the extra if plotly is missing.
    divs = _figure_divs(doc) + _tier_divs(doc) + _region_divs(doc)
    from plotly.offline import get_plotlyjs

    claim_rows = [
        (
            k.claim,
            k.original,
            k.simulated,
            "not tested" if k.holds is None else ("yes" if k.holds else "no"),
        )
        for k in claims(doc)
    ]
    title = _html.escape(f"ruvstream sim {doc['scenario']} (seed {doc['seed']})")
    platform = _html.escape(doc["config"]["platform"]["name"])
    return "\n".join(
        [
            "<!doctype html>",
            '<html lang="en"><head><meta charset="utf-8">',
            f"<title>{title}</title>",
            "<style>body{font-family:sans-serif;margin:2em;max-width:1200px}"
            "table{border-collapse:collapse;margin:1em 0}"
            "td,th{border:1px solid #ccc;padding:4px 8px;text-align:left}</style>",
            f"<script>{get_plotlyjs()}</script>",
            "</head><body>",
            f"<h1>{title}</h1>",
            f"<p>{_html.escape(doc['title'])}; platform {platform}.</p>",
            '<section id="totals">',
            _table(_totals(doc), ("figure", "value")),
            "</section>",
            '<section id="claims"><h2>The original design\'s claims beside this run</h2>',
            _table(claim_rows, ("claim", "original", "this run", "holds")),
            "</section>",
            *divs,
            _RENDERED,
            "</body></html>",
            "",
        ]
    )


SWEEP_CHARTS: tuple[tuple[str, str, str], ...] = (
    ("chart-sweep-cost", "Cost per month at the run's rate", "cost_per_month"),
    ("chart-sweep-slo", "SLO violation (region-minutes)", "slo_violation_minutes"),
    ("chart-sweep-instances", "Peak instances", "instances_peak_total"),
)


def sweep_html(doc: dict[str, Any]) -> str:
    """A sensitivity sweep as a self-contained page: one chart per figure against the value."""
    try:
        import plotly.graph_objects as go
        from plotly.offline import get_plotlyjs
    except ImportError:
        raise RuntimeError("the HTML report needs plotly: install the extra 'sim'") from None
    x = [r["value"] for r in doc["rows"]]
    divs = []
    for div_id, title, key in SWEEP_CHARTS:
        fig = go.Figure(
            go.Scatter(x=x, y=[r[key] for r in doc["rows"]], mode="lines+markers", name=key)
        )
        fig.update_layout(
            title=title, xaxis_title=doc["parameter"], height=380, xaxis_type="category"
        )
        divs.append(
            fig.to_html(
                include_plotlyjs=False,
                full_html=False,
                div_id=div_id,
                config={"displaylogo": False, "responsive": True},
            )
        )
    title = _html.escape(f"Sensitivity of {doc['scenario']} to {doc['parameter']}")
    return "\n".join(
        [
            '<!doctype html>\n<html lang="en"><head><meta charset="utf-8">',
            f"<title>{title}</title><script>{get_plotlyjs()}</script></head><body>",
            f"<h1>{title}</h1>",
            *divs,
            _RENDERED,
            "</body></html>",
            "",
        ]
    )
