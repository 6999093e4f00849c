"""Shared helpers of the replication tests: polling and small HTTP shortcuts."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import httpx

from ruvstream.testing import NodeProcess

T = TypeVar("T")


async def eventually(
    probe: Callable[[], Awaitable[T]], *, within: float = 20.0, interval: float = 0.05
) -> T:
    """Poll ``probe`` until it returns a truthy value (and return it) or fail."""
    deadline = time.monotonic() + within
    last: Any = None
    while True:
        try:
            last = await probe()
        except (httpx.HTTPError, AssertionError, KeyError) as exc:
            last = exc
        else:
            if last:
                return last
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {within}s; last: {last!r}")
        await asyncio.sleep(interval)


def vec(i: float, dim: int = 4) -> list[float]:
    return [float(i)] + [1.0] * (dim - 1)


async def create_collection(client: httpx.AsyncClient, url: str, name: str, dim: int = 4) -> None:
    answer = await client.put(f"{url}/v1/collections/{name}", json={"dim": dim, "metric": "l2"})
    assert answer.status_code == 201, answer.text


async def upsert(
    client: httpx.AsyncClient, url: str, name: str, records: list[dict[str, Any]]
) -> None:
    answer = await client.post(f"{url}/v1/collections/{name}/records", json={"records": records})
    assert answer.status_code == 200, answer.text


async def get_record(
    client: httpx.AsyncClient, url: str, name: str, record_id: str
) -> dict[str, Any] | None:
    answer = await client.get(f"{url}/v1/collections/{name}/records/{record_id}")
    if answer.status_code == 404:
        return None
    answer.raise_for_status()
    body: dict[str, Any] = answer.json()
    return body


async def count(client: httpx.AsyncClient, url: str, name: str) -> int:
    answer = await client.get(f"{url}/v1/collections/{name}")
    if answer.status_code == 404:
        return -1
    return int(answer.json()["count"])


async def count_is(client: httpx.AsyncClient, url: str, name: str, expected: int) -> bool:
    return await count(client, url, name) == expected


async def health(client: httpx.AsyncClient, node: NodeProcess) -> dict[str, Any]:
    body: dict[str, Any] = (await client.get(f"{node.url}/health")).json()
    return body
