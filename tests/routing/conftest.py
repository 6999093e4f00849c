"""Real node processes and in-process routers for the routing integration tests."""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
import uuid
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from ruvstream.routing import BreakerConfig, NodeSpec, OutlierConfig, RouterSettings
from ruvstream.testing import NodeProcess, running_node

StartNode = Callable[..., NodeProcess]


@pytest.fixture
def start_node(tmp_path: Path) -> Iterator[StartNode]:
    """Start a real node: ``start_node("us-east1", "e1", args=[...])``; stopped at teardown."""
    with contextlib.ExitStack() as stack:

        def start(region: str, name: str, args: tuple[str, ...] = ()) -> NodeProcess:
            data = tmp_path / name
            return stack.enter_context(running_node(data, region=region, node_id=name, args=args))

        yield start


def specs(
    nodes: list[NodeProcess], weights: dict[str, float] | None = None
) -> tuple[NodeSpec, ...]:
    return tuple(
        NodeSpec(n.region, n.url, str(n.node_id), (weights or {}).get(str(n.node_id), 1.0))
        for n in nodes
    )


def settings(nodes: list[NodeProcess], **overrides: Any) -> RouterSettings:
    """Fast probes and a small breaker window so tests see transitions quickly."""
    base: dict[str, Any] = {
        "nodes": specs(nodes, overrides.pop("weights", None)),
        "strategy": "round-robin",
        "default_region": nodes[0].region,
        "anonymous_tier": "premium",
        "probe_interval": 0.2,
        "probe_timeout": 0.5,
        "breaker": BreakerConfig(window=10, min_calls=4, open_wait=1.0, half_open_calls=2),
        "outlier": OutlierConfig(consecutive_errors=50),
    }
    base.update(overrides)
    return RouterSettings(**base)


def keys_file(tmp_path: Path, tiers: dict[str, Any] | None = None) -> tuple[Path, dict[str, str]]:
    """A keys file with one fresh key per tier (fresh so Redis state from older runs is moot)."""
    keys = {tier: f"{tier}-{uuid.uuid4().hex[:12]}" for tier in ("free", "standard", "premium")}
    path = tmp_path / "keys.json"
    path.write_text(
        json.dumps(
            {
                "keys": [{"key": k, "tier": t} for t, k in keys.items()],
                "tiers": tiers or {},
                "anonymous": "free",
            }
        )
    )
    return path, keys


async def eventually(check: Callable[[], Awaitable[bool]], within: float = 10.0) -> None:
    """Poll ``check`` until it holds; fail after ``within`` s (a bound, not a measured time)."""
    deadline = time.monotonic() + within
    while not await check():
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached in time")
        await asyncio.sleep(0.05)


async def node_state(client: httpx.AsyncClient, router_url: str, name: str) -> dict[str, Any]:
    body = (await client.get(router_url + "/health")).json()
    state: dict[str, Any] = next(n for n in body["nodes"] if n["name"] == name)
    return state


def served_by(response: httpx.Response) -> str:
    return response.headers["x-ruvstream-node"]
