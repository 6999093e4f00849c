"""The system under test: a node given by URL, or one started here on loopback.

``spawned_node`` runs ``ruvstream serve`` on 127.0.0.1 port 0 in a fresh data
dir and yields its URL once ``/ready`` answers; it stops the node with SIGTERM
(which drains) when the run ends. ``prepare`` creates the
benchmark collection and loads the dataset's base vectors unless the node
already holds exactly that collection.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import numpy as np

from ruvstream.bench.datasets import Dataset
from ruvstream.devstack import running_node

__all__ = ["check_loopback", "prepare", "spawned_node"]

_LOAD_BATCH = 1000


def check_loopback(url: str) -> None:
    """The suite only targets loopback: refuse anything else."""
    host = urlsplit(url).hostname or ""
    if not (host == "localhost" or host.startswith("127.") or host == "::1"):
        raise ValueError(f"benchmarks target loopback only, not {host!r}")


@contextlib.contextmanager
def spawned_node(data_dir: Path, *args: str) -> Iterator[str]:
    """A node process on 127.0.0.1 (``ruvstream.devstack.running_node``); yields its URL."""
    with running_node(data_dir, args=args) as node:
        yield node.url


async def prepare(url: str, collection: str, data: Dataset, *, recreate: bool = False) -> int:
    """Ensure ``collection`` holds exactly the dataset's base rows; returns rows loaded."""
    async with httpx.AsyncClient(base_url=url, timeout=120.0) as client:
        info = await client.get(f"/v1/collections/{collection}")
        if info.status_code == 200 and not recreate:
            body = info.json()
            if body["count"] == len(data.base) and body["dim"] == data.dim:
                return 0
        if info.status_code == 200:
            (await client.delete(f"/v1/collections/{collection}")).raise_for_status()
        created = await client.put(
            f"/v1/collections/{collection}", json={"dim": data.dim, "metric": data.metric}
        )
        created.raise_for_status()
        for start in range(0, len(data.base), _LOAD_BATCH):
            block = np.ascontiguousarray(data.base[start : start + _LOAD_BATCH], dtype="<f4")
            ids = ",".join(str(i) for i in range(start, start + len(block)))
            response = await client.post(
                f"/v1/collections/{collection}/records",
                content=block.tobytes(),
                headers={"Content-Type": "application/octet-stream", "X-Ids": ids},
            )
            response.raise_for_status()
    return len(data.base)
