"""``ruvstream bench startup``: how long a new node takes from spawn to serving.

The predictor pre-warms capacity ``startup_seconds`` ahead of an event
(``NodeCapacity``); this measures the figure on the machine at hand. Per
data size (0 records, and a snapshot of N records), a data directory is
prepared once: a node is started, N records of ``dim`` dimensions upserted
in batches, and the node stopped with SIGTERM (it drains and writes its
final snapshot). Then ``ruvstream serve`` is spawned on it ``runs`` times,
each time timing, from ``Popen`` on:

- ``health_seconds``: the first ``GET /health`` answered 200 (listening);
- ``ready_seconds``: the first ``GET /ready`` answered 200 (index loaded,
  serving: what the router and the swarm wait for).

The process start (interpreter, imports) is inside both, as it is for a new
node in production; the time to schedule a container and pull an image is
not, and is added on top in ``docs/scaling.md``.
"""

from __future__ import annotations

import contextlib
import json
import statistics
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import click
import httpx
import numpy as np

from ruvstream.devstack.node import running_node
from ruvstream.devstack.process import START_TIMEOUT, await_port, launch, stop

__all__ = ["fill", "measure_start", "startup_benchmark", "startup_figures"]

COLLECTION = "startup"
BATCH = 1000


def fill(data_dir: Path, records: int, dim: int) -> None:
    """Leave a snapshot of ``records`` random vectors in ``data_dir`` (a clean stop)."""
    with running_node(data_dir, node_id="startup") as node, httpx.Client(timeout=60) as client:
        base = f"{node.url}/v1/collections/{COLLECTION}"
        client.put(base, json={"dim": dim}).raise_for_status()
        rng = np.random.default_rng(11)
        for start in range(0, records, BATCH):
            count = min(BATCH, records - start)
            vectors = rng.standard_normal((count, dim)).astype("<f4")
            ids = ",".join(f"r{start + i}" for i in range(count))
            client.post(
                base + "/records",
                content=vectors.tobytes(),
                headers={"content-type": "application/octet-stream", "x-ids": ids},
            ).raise_for_status()
        node.terminate()


def _first_ok(url: str, process: Any, log_path: Path, deadline: float) -> float:
    while True:
        if process.poll() is not None:
            raise RuntimeError(
                f"node exited with {process.returncode}: {log_path.read_text()[-2000:]}"
            )
        if time.monotonic() > deadline:
            raise TimeoutError(f"{url} did not answer 200 within {START_TIMEOUT}s")
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(url, timeout=1.0).status_code == 200:
                return time.monotonic()
        time.sleep(0.01)


def measure_start(data_dir: Path) -> dict[str, float]:
    """Spawn ``ruvstream serve`` on ``data_dir`` once; seconds to /health and to /ready."""
    port_file = data_dir / "port"
    port_file.unlink(missing_ok=True)
    log_path = data_dir / "startup.log"
    command = [sys.executable, "-m", "ruvstream", "serve", "--data-dir", str(data_dir)]
    command += ["--host", "127.0.0.1", "--port", "0", "--port-file", str(port_file)]
    command += ["--node-id", "startup", "--log-level", "warning"]
    began = time.monotonic()
    process = launch(command, log_path)
    try:
        deadline = began + START_TIMEOUT
        port = await_port(process, port_file, log_path, deadline)
        url = f"http://127.0.0.1:{port}"
        health = _first_ok(url + "/health", process, log_path, deadline)
        ready = _first_ok(url + "/ready", process, log_path, deadline)
    finally:
        stop(process)
    return {"health_seconds": health - began, "ready_seconds": ready - began}


def startup_figures(
    work_dir: Path, sizes: Sequence[int], runs: int, dim: int
) -> list[dict[str, Any]]:
    """Per size: each run's figures and their median and max."""
    out = []
    for records in sizes:
        data_dir = work_dir / f"records-{records}"
        data_dir.mkdir(parents=True, exist_ok=True)
        if records:
            fill(data_dir, records, dim)
        samples = [measure_start(data_dir) for _ in range(runs)]
        row: dict[str, Any] = {"records": records, "dim": dim, "runs": samples}
        for key in ("health_seconds", "ready_seconds"):
            values = [s[key] for s in samples]
            row[key] = {"median": statistics.median(values), "max": max(values)}
        out.append(row)
    return out


@click.command("startup")
@click.option(
    "--records",
    "sizes",
    type=int,
    multiple=True,
    default=(0, 20_000),
    show_default=True,
    help="Records in the snapshot the node loads (repeatable; 0 = empty).",
)
@click.option("--dim", type=int, default=50, show_default=True)
@click.option("--runs", type=int, default=3, show_default=True, help="Starts per size.")
@click.option(
    "--work-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Where the data directories go (a temporary one by default).",
)
@click.option("--json", "as_json", is_flag=True, help="Print the figures as JSON.")
def startup_benchmark(
    sizes: tuple[int, ...], dim: int, runs: int, work_dir: Path | None, as_json: bool
) -> None:
    """Node start-up: spawn `ruvstream serve`, time to /health and /ready, per snapshot size."""
    import tempfile

    with contextlib.ExitStack() as stack:
        base = work_dir or Path(stack.enter_context(tempfile.TemporaryDirectory()))
        rows = startup_figures(base, sizes, runs, dim)
    if as_json:
        click.echo(json.dumps(rows, indent=2))
        return
    click.echo(f"{'records':>9} {'health med':>11} {'ready med':>10} {'ready max':>10}")
    for row in rows:
        click.echo(
            f"{row['records']:>9} {row['health_seconds']['median']:>10.2f}s"
            f" {row['ready_seconds']['median']:>9.2f}s {row['ready_seconds']['max']:>9.2f}s"
        )
