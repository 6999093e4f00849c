"""Alert rules and dashboards: parsed the way promtool and the two products would
read them, and every metric they name is exported by a live node or router."""

from __future__ import annotations

import importlib.util
import json
import re
import sys
from collections.abc import Iterator
from datetime import timedelta
from types import ModuleType
from typing import Any

import promql_parser
import pytest
import yaml

from .conftest import DEPLOY, LiveStack

MONITORING = DEPLOY / "monitoring"
_RULE_KEYS = {"alert", "expr", "for", "keep_firing_for", "labels", "annotations"}
_HISTOGRAM_SUFFIXES = ("_bucket", "_count", "_sum")
# The scaling loop's metrics come from the control member, not from a node or router:
# tests/control/test_live_autoscale_cli.py checks them against a live one.
_CONTROL_PREFIX = "ruvstream_scaling_"


def _rules() -> list[dict[str, Any]]:
    document = yaml.safe_load((MONITORING / "alerts.yaml").read_text())
    return [rule for group in document["groups"] for rule in group["rules"]]


def _dashboards() -> ModuleType:
    name = "ruvstream_deploy_dashboards"
    spec = importlib.util.spec_from_file_location(name, MONITORING / "dashboards.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


def _grafana() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((MONITORING / "grafana-dashboard.json").read_text())
    return loaded


def _cloud() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(
        (MONITORING / "cloud-monitoring-dashboard.json").read_text()
    )
    return loaded


def _metric_names(expr: str) -> set[str]:
    names: set[str] = set()

    def visit(node: Any) -> bool:
        if isinstance(node, promql_parser.VectorSelector):
            name = node.name or next(
                (m.value for m in node.matchers.matchers if m.name == "__name__"), None
            )
            assert name, f"a selector without a metric name in {expr!r}"
            names.add(name)
        return True

    promql_parser.walk(promql_parser.parse(expr), visit)
    return names


def _dashboard_queries() -> Iterator[tuple[str, str]]:
    for panel in _grafana()["panels"]:
        for target in panel.get("targets", []):
            yield f"grafana: {panel['title']}", target["expr"]
    for tile in _cloud()["mosaicLayout"]["tiles"]:
        for data in tile["widget"]["xyChart"]["dataSets"]:
            yield (
                f"cloud monitoring: {tile['widget']['title']}",
                data["timeSeriesQuery"]["prometheusQuery"],
            )


def test_rule_file_has_the_shape_promtool_checks() -> None:
    document = yaml.safe_load((MONITORING / "alerts.yaml").read_text())
    assert set(document) == {"groups"}
    groups = [g["name"] for g in document["groups"]]
    assert len(groups) == len(set(groups))
    alerts = [rule["alert"] for rule in _rules()]
    assert len(alerts) == len(set(alerts))
    for rule in _rules():
        assert set(rule) <= _RULE_KEYS and {"alert", "expr", "labels", "annotations"} <= set(rule)
        assert re.fullmatch(r"Ruvstream[A-Z][A-Za-z0-9]+", rule["alert"])
        assert promql_parser.parse_duration(rule.get("for", "0s")) >= timedelta(0)
        assert rule["labels"]["severity"] in ("warning", "critical")
        assert rule["annotations"]["summary"]
        for text in (*rule["labels"].values(), *rule["annotations"].values()):
            assert isinstance(text, str) and text.count("{{") == text.count("}}")


@pytest.mark.parametrize("rule", _rules(), ids=lambda r: r["alert"])
def test_alert_expression_parses_as_promql(rule: dict[str, Any]) -> None:
    parsed = promql_parser.parse(rule["expr"])
    # An alert fires on the samples of a comparison (or a set operation over ones).
    assert isinstance(parsed, promql_parser.BinaryExpr), rule["expr"]


def test_the_parser_refuses_broken_promql() -> None:
    for broken in ("sum(rate(x[5m])", "rate(x)", "histogram_quantile(0.99)", "x >"):
        with pytest.raises(Exception):  # noqa: B017 (the parser raises its own error types)
            promql_parser.parse(broken)


def test_slo_alerts_cover_latency_errors_replication_and_node_down() -> None:
    names = {name for rule in _rules() for name in _metric_names(rule["expr"])}
    assert "ruvstream_search_latency_seconds_bucket" in names
    assert {"ruvstream_http_requests_total", "ruvstream_router_requests_total"} <= names
    assert "ruvstream_replication_lag_seconds" in names
    assert "ruvstream_router_node_up_ratio" in names


def test_dashboards_are_what_the_generator_writes() -> None:
    module = _dashboards()
    assert (MONITORING / "grafana-dashboard.json").read_text() == module.render(module.grafana())
    assert (MONITORING / "cloud-monitoring-dashboard.json").read_text() == module.render(
        module.cloud_monitoring()
    )


def _overlaps(boxes: list[tuple[int, int, int, int]]) -> bool:
    cells = [(x + i, y + j) for x, y, w, h in boxes for i in range(w) for j in range(h)]
    return len(cells) != len(set(cells))


def test_dashboard_layouts_are_valid() -> None:
    grafana = _grafana()
    assert len({p["id"] for p in grafana["panels"]}) == len(grafana["panels"])
    boxes = [tuple(p["gridPos"][k] for k in "xywh") for p in grafana["panels"]]
    assert all(x + w <= 24 for x, _, w, _ in boxes) and not _overlaps(boxes)
    cloud = _cloud()["mosaicLayout"]
    tiles = [(t["xPos"], t["yPos"], t["width"], t["height"]) for t in cloud["tiles"]]
    assert all(x + w <= cloud["columns"] for x, _, w, _ in tiles) and not _overlaps(tiles)
    # Both dashboards carry the same queries.
    grafana_queries = sorted(q for where, q in _dashboard_queries() if where.startswith("grafana"))
    cloud_queries = sorted(q for where, q in _dashboard_queries() if where.startswith("cloud"))
    assert grafana_queries == cloud_queries and grafana_queries


def _is_exported(name: str, exported: set[str]) -> bool:
    return name in exported or any(name + suffix in exported for suffix in _HISTOGRAM_SUFFIXES)


@pytest.mark.nats
def test_every_metric_an_alert_names_is_exported(live_stack: LiveStack) -> None:
    for rule in _rules():
        missing = {
            n for n in _metric_names(rule["expr"]) if not _is_exported(n, live_stack.exported)
        }
        assert not missing, f"{rule['alert']}: {sorted(missing)}"


@pytest.mark.nats
def test_every_metric_a_dashboard_panel_names_is_exported(live_stack: LiveStack) -> None:
    for where, expr in _dashboard_queries():
        missing = {
            n
            for n in _metric_names(expr)
            if not _is_exported(n, live_stack.exported) and not n.startswith(_CONTROL_PREFIX)
        }
        assert not missing, f"{where}: {sorted(missing)}"


@pytest.mark.nats
def test_the_export_check_would_catch_a_missing_metric(live_stack: LiveStack) -> None:
    assert not _is_exported("ruvstream_budget_burn_ratio", live_stack.exported)
    assert _is_exported("ruvstream_search_latency_seconds", live_stack.exported)
