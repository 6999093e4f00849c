"""``ruvstream cluster``: run a local multi-region deployment and inspect it.

``cluster up`` starts regions x nodes in one process on loopback (embedded
bus or the local NATS JetStream), prints the endpoints, writes them to a
state file and runs until SIGINT/SIGTERM (or ``--duration``), then stops
every node cleanly. The cluster lives in ``--dir``, by default under the
user's state directory (``devstack.state``), and the state file is
``<dir>/cluster.json`` unless ``--state`` names another. ``cluster status``
reads that file, so it works from any working directory, and shows each
node's region, health and lag per source region (or probes ``--url``); with
``--nats-url`` it prints what the control plane's registry holds instead.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import signal
from pathlib import Path
from typing import Any

import click
import httpx

from ruvstream.config import ReplicationSettings
from ruvstream.devstack.cluster import LocalCluster
from ruvstream.devstack.state import STATE_FILE, default_base_dir, read_state
from ruvstream.geo import region_names
from ruvstream.replication.bootstrap import bootstrap_from_peer

__all__ = ["cluster"]

DEFAULT_REGIONS = "us-east1,europe-west1,asia-east1"

_DIR = click.option(
    "--dir",
    "base_dir",
    type=click.Path(path_type=Path),
    default=None,
    help=f"Where the cluster's data lives [default: {default_base_dir()}].",
)
_STATE = click.option(
    "--state",
    "state_path",
    type=click.Path(path_type=Path),
    default=None,
    help=f"The cluster's state file [default: <dir>/{STATE_FILE}].",
)


def _state_path(base_dir: Path | None, state_path: Path | None) -> Path:
    return state_path or (base_dir or default_base_dir()) / STATE_FILE


@click.group()
def cluster() -> None:
    """Local multi-region deployments: up, status, bootstrap."""


def _regions(value: str) -> list[str]:
    regions = [r.strip() for r in value.split(",") if r.strip()]
    unknown = sorted(set(regions) - set(region_names()))
    if unknown or not regions:
        raise click.BadParameter(f"unknown regions {unknown}; choose from {region_names()}")
    return regions


@cluster.command("up")
@click.option("--regions", default=DEFAULT_REGIONS, show_default=True)
@click.option("--nodes-per-region", type=click.IntRange(1, 16), default=2, show_default=True)
@click.option(
    "--bus", type=click.Choice(["embedded", "nats"]), default="embedded", show_default=True
)
@click.option("--nats-url", default="nats://127.0.0.1:4222", show_default=True)
@click.option("--stream", default="ruvstream-cluster", show_default=True)
@_DIR
@_STATE
@click.option("--lag-bound", type=float, default=5.0, show_default=True)
@click.option(
    "--duration", type=float, default=0.0, help="Stop after this many seconds (0: on signal)."
)
def up(
    regions: str,
    nodes_per_region: int,
    bus: str,
    nats_url: str,
    stream: str,
    base_dir: Path | None,
    state_path: Path | None,
    lag_bound: float,
    duration: float,
) -> None:
    """Start REGIONS x NODES-PER-REGION nodes on 127.0.0.1 and serve until stopped."""
    settings = ReplicationSettings(
        bus=bus, nats_url=nats_url, stream=stream, lag_bound_seconds=lag_bound
    )
    home = base_dir or default_base_dir()
    local = LocalCluster(home, _regions(regions), nodes_per_region, settings)
    asyncio.run(_run(local, _state_path(home, state_path), duration))


async def _run(local: LocalCluster, state_path: Path, duration: float) -> None:
    local.base_dir.mkdir(parents=True, exist_ok=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    try:
        await local.start()
        state = local.write_state(state_path)
        try:
            click.echo(f"cluster up: bus={local.replication.bus} stream={local.replication.stream}")
            for member in local.nodes:
                click.echo(f"  {member.region:<24} {member.node_id:<28} {member.url}")
            click.echo(f"endpoints in {state}; {_status_command(state)} shows them", err=True)
            click.echo("stop with Ctrl-C", err=True)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), duration or None)
        finally:
            # Only the file this run wrote: a cluster that failed to start must
            # not remove the state of the one already running there.
            await asyncio.to_thread(state.unlink, True)
    finally:
        await local.stop()
    click.echo("cluster stopped", err=True)


def _status_command(state: Path) -> str:
    default = _state_path(None, None)
    return "`ruvstream cluster status`" + ("" if state == default else f" --state {state}")


def _probe(client: httpx.Client, region: str, node: str, url: str) -> dict[str, Any]:
    row: dict[str, Any] = {"region": region, "node": node, "url": url}
    try:
        health = client.get(f"{url}/health").json()
    except httpx.HTTPError as exc:
        return {**row, "status": "down", "error": str(exc)}
    lags = {src: v["lag_seconds"] for src, v in health.get("replication", {}).items()}
    return {
        **row,
        "region": health.get("region", region),
        "node": health.get("node", node),
        "status": health.get("status", "unknown"),
        "applied_seq": health.get("replication_applied_seq"),
        "lag_seconds": lags,
    }


@cluster.command("status")
@_DIR
@_STATE
@click.option("--url", "urls", multiple=True, help="Node URLs (instead of a state file).")
@click.option(
    "--nats-url",
    default=None,
    help="Read the control plane's registry at this NATS instead: leader, nodes, tasks.",
)
@click.option("--namespace", default="ruvstream", show_default=True, help="With --nats-url.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def status(
    base_dir: Path | None,
    state_path: Path | None,
    urls: tuple[str, ...],
    nats_url: str | None,
    namespace: str,
    as_json: bool,
) -> None:
    """Show every node: region, health, applied position, lag per source region.

    With ``--nats-url``, the cluster as its control plane records it (any
    deployment, from any directory): ``{"leader": {"id", "token", "since"},
    "nodes": [...], "tasks": {...}}``.
    """
    if nats_url:
        from ruvstream.control.status import read_status, render_status

        found = asyncio.run(read_status(nats_url, namespace))
        click.echo(json.dumps(found, indent=2, sort_keys=True) if as_json else render_status(found))
        return
    if urls:
        targets = [("?", "?", url) for url in urls]
    else:
        path = _state_path(base_dir, state_path)
        if not path.exists():
            raise click.ClickException(
                f"no running cluster ({path} not found): start one with `ruvstream cluster up`, "
                "or say where with --dir, --state or --url"
            )
        state = read_state(path)
        targets = [(n["region"], n["node"], n["url"]) for n in state["nodes"]]
    with httpx.Client(timeout=3.0) as client:
        rows = [_probe(client, *target) for target in targets]
    if as_json:
        click.echo(json.dumps(rows, indent=2))
        return
    click.echo(f"{'REGION':<24} {'NODE':<24} {'STATUS':<9} {'SEQ':>7}  URL / LAG")
    for row in rows:
        seq = "-" if row.get("applied_seq") is None else str(row["applied_seq"])
        lags = " ".join(f"{s}={v:.2f}s" for s, v in sorted(row.get("lag_seconds", {}).items()))
        click.echo(
            f"{row['region']:<24} {row['node']:<24} {row['status']:<9} {seq:>7}  {row['url']}"
        )
        if lags:
            click.echo(f"{'':<58}lag {lags}")


@cluster.command("bootstrap")
@click.option("--peer", required=True, help="URL of a running node of the same region.")
@click.option("--data-dir", type=click.Path(path_type=Path), required=True)
@click.option(
    "--peer-key-file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=None,
    help="File holding an admin key of the peer (when it runs with --api-keys).",
)
def bootstrap(peer: str, data_dir: Path, peer_key_file: Path | None) -> None:
    """Seed an empty data dir from a peer's snapshot (then run ``serve`` on it)."""
    key = peer_key_file.read_text().strip() if peer_key_file is not None else None
    path = bootstrap_from_peer(peer, data_dir, api_key=key)
    click.echo(f"installed {path}; start the node with --data-dir {data_dir}")
