"""Faults on real sockets: 503/429 with Retry-After, outages, slow servers, lost answers."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest

from ruvstream.client import (
    Backoff,
    ClientTimeoutError,
    ConnectError,
    RateLimitedError,
    RetryBudget,
    RetryPolicy,
    Timeouts,
    TransportError,
    UnavailableError,
)
from ruvstream.testing import NodeProcess

from .faults import Fault, FaultServer, fault_server

FAST = RetryPolicy(max_attempts=4, backoff=Backoff(base=0.001, cap=0.01))
VECTOR = np.ones(8, dtype=np.float32)
UNAVAILABLE = {"error": {"code": "unavailable", "message": "busy"}}


@pytest.fixture
def faults() -> Iterator[FaultServer]:
    with fault_server() as server:
        yield server


def searches(server: FaultServer) -> list[float]:
    return [seen.at for seen in server.log if seen.path.endswith("/search")]


async def test_503_is_retried_and_retry_after_honoured(make_api: Any, faults: FaultServer) -> None:
    faults.script = [Fault(503, UNAVAILABLE, {"Retry-After": "1"})]
    api = make_api(faults.url, retry=FAST, cache=False)
    result = await api.search("c", VECTOR)
    assert result.hits == []
    first, second = searches(faults)
    assert second - first >= 0.95  # the header's one second, not the 1 ms backoff


async def test_429_body_retry_after_wins_over_the_header(
    make_api: Any, faults: FaultServer
) -> None:
    limited = {"error": {"code": "rate_limited", "message": "slow down", "retry_after": 0.3}}
    faults.script = [Fault(429, limited, {"Retry-After": "1"}), Fault(429, limited)]
    api = make_api(faults.url, retry=FAST, cache=False)
    await api.search("c", VECTOR)
    at = searches(faults)
    assert len(at) == 3
    assert at[1] - at[0] >= 0.28 and at[2] - at[1] >= 0.28


async def test_errors_surface_once_attempts_run_out(make_api: Any, faults: FaultServer) -> None:
    faults.repeat = Fault(429, {"error": {"code": "rate_limited", "message": "no"}})
    api = make_api(faults.url, retry=FAST, cache=False, budget=RetryBudget(1000))
    with pytest.raises(RateLimitedError):
        await api.search("c", VECTOR)
    assert len(searches(faults)) == FAST.max_attempts


async def test_the_budget_stops_retries_multiplying_an_outage(
    make_api: Any, faults: FaultServer
) -> None:
    faults.repeat = Fault(503, UNAVAILABLE)
    budget = RetryBudget(max_tokens=4, token_ratio=0.1)
    api = make_api(faults.url, retry=FAST, budget=budget, cache=False)
    for _ in range(10):
        with pytest.raises(UnavailableError):
            await api.search("c", VECTOR)
    # Without a budget: 10 calls x 4 attempts = 40 requests.
    assert len(searches(faults)) <= 12
    assert budget.refused >= 9


async def test_a_slow_server_trips_the_read_timeout(make_api: Any, faults: FaultServer) -> None:
    faults.repeat = Fault(200, {"hits": [], "version": 0}, delay=2.0)
    api = make_api(
        faults.url,
        timeouts=Timeouts(read=0.2, total=30),
        retry=RetryPolicy(max_attempts=2, backoff=Backoff(base=0.001)),
        cache=False,
    )
    with pytest.raises(ClientTimeoutError) as caught:
        await api.search("c", VECTOR)
    assert caught.value.phase == "read" and caught.value.status == 504
    assert len(searches(faults)) == 2  # reads retry a timeout once, then give up


async def test_the_total_deadline_bounds_the_whole_call(make_api: Any, faults: FaultServer) -> None:
    faults.repeat = Fault(200, {"hits": [], "version": 0}, delay=2.0)
    api = make_api(faults.url, timeouts=Timeouts(read=10, total=10), cache=False)
    with pytest.raises(ClientTimeoutError) as caught:
        await api.search("c", VECTOR, timeouts=0.3)
    assert caught.value.phase in ("total", "read")


async def test_a_stream_broken_midway_raises_a_transport_error(
    make_api: Any, faults: FaultServer
) -> None:
    hit = b'event: hit\ndata: {"id": "a", "score": 1.0, "rank": 0}\n\n'
    faults.script = [Fault(200, broken_stream=hit)]
    api = make_api(faults.url, retry=FAST)
    seen = []
    with pytest.raises(TransportError):
        async for found in api.search_stream("c", VECTOR):
            seen.append(found.id)
    assert seen == ["a"]


async def test_nobody_listening_is_a_connect_error(make_api: Any) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    api = make_api(f"http://127.0.0.1:{port}", retry=FAST)
    with pytest.raises(ConnectError):
        await api.search("c", VECTOR)


async def test_a_write_retried_after_a_lost_answer_is_applied_once(
    make_api: Any, node: NodeProcess, name: str
) -> None:
    direct = make_api(node.url)
    await direct.create_collection(name, 8)
    with fault_server(upstream=node.url) as proxy:
        proxy.script = [Fault(503, UNAVAILABLE, forward_first=True)]
        api = make_api(proxy.url, retry=FAST)
        written = await api.upsert(name, [("a", VECTOR), ("b", -VECTOR)])
        writes = [s for s in proxy.log if s.path.endswith("/records")]
    assert written.duplicate and written.count == 2
    assert len(writes) == 2
    assert writes[0].headers["idempotency-key"] == writes[1].headers["idempotency-key"]
    info = await direct.get_collection(name)
    assert info.count == 2 and info.version == written.version


async def test_a_write_without_a_key_is_not_retried_after_it_may_have_run(
    make_api: Any, node: NodeProcess, name: str
) -> None:
    direct = make_api(node.url)
    await direct.create_collection(name, 8)
    with fault_server(upstream=node.url) as proxy:
        proxy.script = [Fault(503, UNAVAILABLE, forward_first=True)]
        api = make_api(proxy.url, retry=FAST, auto_idempotency=False)
        with pytest.raises(UnavailableError):
            await api.upsert(name, [("a", VECTOR)])
        assert len([s for s in proxy.log if s.path.endswith("/records")]) == 1
