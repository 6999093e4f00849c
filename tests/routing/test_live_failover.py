"""Failures, live: killed nodes, a whole region down, a node that answers errors."""

from __future__ import annotations

import asyncio
import contextlib
from collections import Counter

import httpx

from ruvstream.routing import running_router

from .conftest import StartNode, eventually, node_state, served_by, settings


async def test_killed_node_stops_receiving_traffic_and_comes_back(start_node: StartNode) -> None:
    e1, e2 = start_node("us-east1", "e1"), start_node("us-east1", "e2")
    async with running_router(settings([e1, e2])) as url, httpx.AsyncClient(timeout=10) as client:
        for node in (e1, e2):
            await client.put(node.url + "/v1/collections/c", json={"dim": 2})
        e1.kill()
        # a write that finds its node's port closed was never sent: it goes elsewhere
        write = {"records": [{"id": "a", "vector": [1.0, 0.0]}]}
        answer = await client.post(url + "/v1/collections/c/records", json=write)
        assert answer.status_code == 200 and served_by(answer) == "e2"
        # Stated bound: the first refused connection marks it down (passive), else the
        # next probe does (0.2 s here); either way within a probe interval plus a timeout.
        answers = [await client.get(url + "/v1/collections") for _ in range(20)]
        assert all(a.status_code == 200 for a in answers)
        assert Counter(served_by(a) for a in answers) == {"e2": 20}
        assert (await node_state(client, url, "e1"))["healthy"] is False
        e1.restart()

        async def back() -> bool:
            return bool((await node_state(client, url, "e1"))["healthy"])

        await eventually(back, within=10)
        answers = [await client.get(url + "/v1/collections") for _ in range(10)]
        assert Counter(served_by(a) for a in answers) == {"e1": 5, "e2": 5}


async def test_region_down_sends_clients_to_the_next_nearest(start_node: StartNode) -> None:
    east = [start_node("us-east1", "e1"), start_node("us-east1", "e2")]
    west = start_node("us-west1", "w1")  # nearer to us-east1 than Europe
    europe = start_node("europe-west1", "eu1")
    config = settings([*east, west, europe], default_region="us-east1")
    async with running_router(config) as url, httpx.AsyncClient(timeout=10) as client:
        served: Counter[str] = Counter()
        failures: list[int] = []
        stop = asyncio.Event()

        async def load() -> None:
            while not stop.is_set():
                answer = await client.get(url + "/v1/collections")
                if answer.status_code != 200:
                    failures.append(answer.status_code)
                else:
                    served[served_by(answer)] += 1

        workers = [asyncio.ensure_future(load()) for _ in range(4)]
        await asyncio.sleep(0.3)
        for node in east:
            node.kill()
        before = served["w1"]
        await eventually(lambda: _more(served, "w1", before + 40), within=20)
        stop.set()
        await asyncio.gather(*workers)
        assert failures == []  # reads in flight at the kill were retried elsewhere
        assert served["eu1"] == 0  # the next nearest region took it all
        assert served["e1"] + served["e2"] > 0
        region = (await client.get(url + "/health")).json()
        assert {n["name"] for n in region["nodes"] if not n["healthy"]} == {"e1", "e2"}


async def _more(counter: Counter[str], key: str, target: int) -> bool:
    return counter[key] >= target


async def test_erroring_node_trips_its_breaker_then_half_open_probes_close_it(
    start_node: StartNode,
) -> None:
    good = start_node("us-east1", "good")
    bad = start_node("us-east1", "bad", args=("--max-connections", "1"))
    async with httpx.AsyncClient(timeout=10) as client:
        await client.put(bad.url + "/v1/collections/c", json={"dim": 2})
        created = await client.post(
            bad.url + "/v1/collections/c/subscriptions", json={"vector": [1, 0], "k": 1}
        )
        sub = created.json()["id"]
        # One held stream fills the node's only connection slot: it answers 503 to the rest.
        # Probes would see the full node as not ready and take it out of rotation before
        # the breaker had a say, at whatever moment the machine's speed decides: this
        # test is about passive health, so the router probes only once, at start-up.
        async with running_router(settings([good, bad], probe_interval=30.0)) as url:
            async with client.stream("GET", f"{bad.url}/v1/subscriptions/{sub}/events") as held:
                assert held.status_code == 200
                answers = [await client.get(url + "/v1/collections") for _ in range(20)]
                assert all(a.status_code == 200 for a in answers)  # retried on the good node
                state = await node_state(client, url, "bad")
                assert state["breaker"] == "open"
                metrics = (await client.get(url + "/metrics")).text
                assert 'ruvstream_router_breaker_state{node="bad",region="us-east1"} 1.0' in metrics
                assert Counter(served_by(a) for a in answers)["bad"] == 0
            # the slot is free again; after the open wait the breaker lets probes through

            async def half_open() -> bool:
                return (await node_state(client, url, "bad"))["breaker"] == "half_open"

            await eventually(half_open, within=10)
            answers = [await client.get(url + "/v1/collections") for _ in range(12)]
            assert all(a.status_code == 200 for a in answers)
            assert Counter(served_by(a) for a in answers)["bad"] >= 2
            assert (await node_state(client, url, "bad"))["breaker"] == "closed"


async def test_hedged_reads_answer_around_a_stalled_node(start_node: StartNode) -> None:
    a, b = start_node("us-east1", "a"), start_node("us-east1", "b")
    config = settings([a, b], hedge_after_ms=100.0, probe_interval=30.0)
    async with running_router(config) as url, httpx.AsyncClient(timeout=10) as client:
        a.pause()
        try:
            answers = [await client.get(url + "/v1/collections") for _ in range(6)]
        finally:
            a.resume()
        assert all(x.status_code == 200 for x in answers)
        assert {served_by(x) for x in answers} == {"b"}
        metrics = (await client.get(url + "/metrics")).text
        hedges = [
            line
            for line in metrics.splitlines()
            if line.startswith("ruvstream_router_hedges_total")
        ]
        assert hedges and float(hedges[0].split()[-1]) >= 3
        with contextlib.suppress(httpx.HTTPError):
            await client.get(a.url + "/health")
