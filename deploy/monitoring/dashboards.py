#!/usr/bin/env python3
"""The ruvstream dashboards, defined once, written for Grafana and Cloud Monitoring.

Every panel is PromQL over metrics the node and router export, so the same
queries run in Grafana on Prometheus and in Cloud Monitoring on Managed Service
for Prometheus. Regenerate both files after editing a panel:

    python deploy/monitoring/dashboards.py

tests/deploy checks the committed files equal this output and that every
metric a panel names is exported by a live node or router.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
GRAFANA = HERE / "grafana-dashboard.json"
CLOUD_MONITORING = HERE / "cloud-monitoring-dashboard.json"


@dataclass(frozen=True)
class Panel:
    title: str
    queries: tuple[tuple[str, str], ...]  # (PromQL, legend)
    unit: str  # Grafana unit id
    row: str


def _p(q: float, metric: str, by: str = "") -> str:
    group = f"le, {by}" if by else "le"
    return f"histogram_quantile({q}, sum by ({group}) (rate({metric}_bucket[5m])))"


PANELS: tuple[Panel, ...] = (
    Panel(
        "Search latency (SLO p99 < 50 ms)",
        tuple(
            (_p(q, "ruvstream_search_latency_seconds"), f"p{round(q * 100)}")
            for q in (0.5, 0.95, 0.99)
        ),
        "s",
        "Service level",
    ),
    Panel(
        "Searches per second by collection",
        (("sum by (collection) (rate(ruvstream_search_requests_total[1m]))", "{{collection}}"),),
        "reqps",
        "Service level",
    ),
    Panel(
        "Node 5xx ratio (SLO < 1%)",
        (
            (
                'sum(rate(ruvstream_http_requests_total{status=~"5.."}[5m]))'
                " / sum(rate(ruvstream_http_requests_total[5m]))",
                "5xx",
            ),
        ),
        "percentunit",
        "Service level",
    ),
    Panel(
        "Router answers by region and status",
        (
            (
                "sum by (region, status) (rate(ruvstream_router_requests_total[1m]))",
                "{{region}} {{status}}",
            ),
        ),
        "reqps",
        "Service level",
    ),
    Panel(
        "HTTP p99 by route",
        ((_p(0.99, "ruvstream_http_request_duration_seconds", "route"), "{{route}}"),),
        "s",
        "Node",
    ),
    Panel(
        "Errors answered by code",
        (("sum by (code) (rate(ruvstream_errors_total[5m]))", "{{code}}"),),
        "reqps",
        "Node",
    ),
    Panel(
        "WebSocket frames by op and outcome",
        (("sum by (op, outcome) (rate(ruvstream_ws_requests_total[1m]))", "{{op}} {{outcome}}"),),
        "ops",
        "Node",
    ),
    Panel(
        "Open connections and streams",
        (
            ("sum by (protocol) (ruvstream_connections)", "{{protocol}} connections"),
            ("sum by (kind) (ruvstream_streams_active)", "{{kind}} streams"),
            ("sum(ruvstream_subscriptions_active)", "standing queries"),
        ),
        "short",
        "Node",
    ),
    Panel(
        "Searches per batched index call (median)",
        ((_p(0.5, "ruvstream_batch_size"), "p50"),),
        "short",
        "Node",
    ),
    Panel(
        "Writes applied by op and source",
        (("sum by (op, source) (rate(ruvstream_writes_total[1m]))", "{{op}} {{source}}"),),
        "ops",
        "Node",
    ),
    Panel(
        "Admission refusals by reason",
        (("sum by (reason) (rate(ruvstream_admission_rejected_total[5m]))", "{{reason}}"),),
        "reqps",
        "Node",
    ),
    Panel(
        "Index vectors and memory by collection",
        (
            ("sum by (collection) (ruvstream_index_vectors)", "{{collection}} vectors"),
            ("sum by (collection) (ruvstream_index_memory_bytes)", "{{collection}} bytes"),
        ),
        "short",
        "Node",
    ),
    Panel(
        "WAL bytes and fsyncs per second",
        (
            ("sum(rate(ruvstream_wal_bytes_total[1m]))", "bytes/s"),
            ("sum(rate(ruvstream_wal_fsyncs_total[1m]))", "fsyncs/s"),
        ),
        "short",
        "Node",
    ),
    Panel(
        "Process CPU and memory",
        (
            ("max(ruvstream_process_cpu_percent)", "CPU % (100 = one core)"),
            ("max(ruvstream_process_resident_memory_bytes)", "RSS bytes"),
        ),
        "short",
        "Node",
    ),
    Panel(
        "Replication lag by source region (bound 5 s)",
        (("max by (source_region) (ruvstream_replication_lag_seconds)", "{{source_region}}"),),
        "s",
        "Replication",
    ),
    Panel(
        "Apply delay p99 by source region",
        (
            (
                _p(0.99, "ruvstream_replication_apply_delay_seconds", "source_region"),
                "{{source_region}}",
            ),
        ),
        "s",
        "Replication",
    ),
    Panel(
        "Ops applied from the bus, published to it",
        (
            (
                "sum by (result) (rate(ruvstream_replication_applied_ops_total[1m]))",
                "applied {{result}}",
            ),
            ("sum(rate(ruvstream_replication_published_ops_total[1m]))", "published"),
            ("sum(rate(ruvstream_replication_publish_errors_total[1m]))", "publish errors"),
        ),
        "ops",
        "Replication",
    ),
    Panel(
        "Outbox and applied position",
        (
            ("max(ruvstream_replication_outbox_ops)", "outbox ops"),
            ("max(ruvstream_replication_applied_seq)", "applied seq"),
        ),
        "short",
        "Replication",
    ),
    Panel(
        "Router upstream p99 by region",
        ((_p(0.99, "ruvstream_router_upstream_seconds", "region"), "{{region}}"),),
        "s",
        "Router",
    ),
    Panel(
        "Router refusals by reason and tier",
        (
            (
                "sum by (reason, tier) (rate(ruvstream_router_rejected_total[5m]))",
                "{{reason}} {{tier}}",
            ),
        ),
        "reqps",
        "Router",
    ),
    Panel(
        "Retries, hedges and WebSocket failovers",
        (
            ("sum(rate(ruvstream_router_retries_total[5m]))", "retries"),
            ("sum(rate(ruvstream_router_hedges_total[5m]))", "hedges"),
            ("sum(rate(ruvstream_router_ws_failovers_total[5m]))", "ws failovers"),
        ),
        "ops",
        "Router",
    ),
    Panel(
        "Router in flight and pressure",
        (
            ("sum(ruvstream_router_inflight_requests)", "in flight"),
            ("max(ruvstream_router_pressure_ratio)", "pressure"),
        ),
        "short",
        "Router",
    ),
    Panel(
        "Healthy nodes per region",
        (("sum by (region) (ruvstream_router_node_up_ratio)", "{{region}}"),),
        "short",
        "Router",
    ),
    Panel(
        "Open breakers and ejected nodes",
        (
            ("sum by (region) (ruvstream_router_breaker_state == 1)", "{{region}} open"),
            ("sum by (region) (ruvstream_router_node_ejected_ratio)", "{{region}} ejected"),
        ),
        "short",
        "Router",
    ),
    # The leader's scaling loop (`ruvstream control --autoscale --metrics-port`) beside the
    # router's view of what it caused.
    Panel(
        "Capacity: desired, predicted, reactive and serving nodes",
        (
            ("sum by (region) (ruvstream_scaling_desired_instances)", "{{region}} desired"),
            ("sum by (region) (ruvstream_scaling_predicted_instances)", "{{region}} predicted"),
            ("sum by (region) (ruvstream_scaling_reactive_instances)", "{{region}} reactive"),
            ("sum by (region) (ruvstream_router_node_up_ratio)", "{{region}} serving"),
        ),
        "short",
        "Scaling",
    ),
    Panel(
        "Latency while scaling: router upstream p99",
        ((_p(0.99, "ruvstream_router_upstream_seconds"), "p99"),),
        "s",
        "Scaling",
    ),
    Panel(
        "Shed by degradation and pressure, and the level in force",
        (
            (
                'sum by (tier) (rate(ruvstream_router_rejected_total{reason=~"degraded|shed"}[1m]'
                "))",
                "{{tier}} shed",
            ),
            ("max(ruvstream_router_degradation_level)", "level (0 none .. 3 critical)"),
        ),
        "short",
        "Scaling",
    ),
    Panel(
        "Scaling decisions by reason",
        (("sum by (reason) (rate(ruvstream_scaling_decisions_total[5m]))", "{{reason}}"),),
        "ops",
        "Scaling",
    ),
)

_CLOUD_UNITS = {"s": "s", "reqps": "1/s", "ops": "1/s", "percentunit": "1", "short": "1"}


def grafana() -> dict[str, Any]:
    panels: list[dict[str, Any]] = []
    y = 0
    rows = list(dict.fromkeys(p.row for p in PANELS))
    next_id = 1
    for row in rows:
        panels.append(
            {
                "id": next_id,
                "type": "row",
                "title": row,
                "collapsed": False,
                "gridPos": {"h": 1, "w": 24, "x": 0, "y": y},
                "panels": [],
            }
        )
        next_id += 1
        y += 1
        for i, panel in enumerate(p for p in PANELS if p.row == row):
            panels.append(
                {
                    "id": next_id,
                    "type": "timeseries",
                    "title": panel.title,
                    "datasource": {"type": "prometheus", "uid": "${datasource}"},
                    "gridPos": {"h": 8, "w": 12, "x": 12 * (i % 2), "y": y + 8 * (i // 2)},
                    "fieldConfig": {"defaults": {"unit": panel.unit}, "overrides": []},
                    "options": {"legend": {"displayMode": "list", "placement": "bottom"}},
                    "targets": [
                        {
                            "refId": chr(ord("A") + n),
                            "datasource": {"type": "prometheus", "uid": "${datasource}"},
                            "expr": expr,
                            "legendFormat": legend,
                        }
                        for n, (expr, legend) in enumerate(panel.queries)
                    ],
                }
            )
            next_id += 1
        y += 8 * ((sum(p.row == row for p in PANELS) + 1) // 2)
    return {
        "uid": "ruvstream",
        "title": "ruvstream",
        "tags": ["ruvstream"],
        "timezone": "utc",
        "schemaVersion": 39,
        "version": 1,
        "refresh": "30s",
        "time": {"from": "now-6h", "to": "now"},
        "templating": {
            "list": [
                {
                    "name": "datasource",
                    "type": "datasource",
                    "query": "prometheus",
                    "label": "Prometheus",
                    "current": {},
                    "hide": 0,
                }
            ]
        },
        "panels": panels,
    }


def cloud_monitoring() -> dict[str, Any]:
    tiles = []
    for i, panel in enumerate(PANELS):
        tiles.append(
            {
                "xPos": 24 * (i % 2),
                "yPos": 16 * (i // 2),
                "width": 24,
                "height": 16,
                "widget": {
                    "title": f"{panel.row}: {panel.title}",
                    "xyChart": {
                        "chartOptions": {"mode": "COLOR"},
                        "dataSets": [
                            {
                                "plotType": "LINE",
                                "targetAxis": "Y1",
                                "legendTemplate": legend,
                                "timeSeriesQuery": {
                                    "prometheusQuery": expr,
                                    "unitOverride": _CLOUD_UNITS[panel.unit],
                                },
                            }
                            for expr, legend in panel.queries
                        ],
                        "yAxis": {"scale": "LINEAR"},
                    },
                },
            }
        )
    return {"displayName": "ruvstream", "mosaicLayout": {"columns": 48, "tiles": tiles}}


def render(document: dict[str, Any]) -> str:
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


if __name__ == "__main__":
    GRAFANA.write_text(render(grafana()))
    CLOUD_MONITORING.write_text(render(cloud_monitoring()))
