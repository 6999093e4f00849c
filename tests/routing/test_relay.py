"""The protocol's relay of plain searches, live: the standard path's answers, byte for byte.

A fast router answers a plain search from its HTTP protocol, without an ASGI
task (``routing/relay.py``); a standard one takes every request through the
ASGI app and aiohttp. The same requests to both give the same status, body
and headers (less the date, and the length the standard path replaces with
chunks), whether the node answers, refuses, or is not there at all.
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httptools
import httpx
import pytest

from ruvstream.routing import NodeSpec, RouterSettings, running_router
from ruvstream.routing.relay import SearchRelay

from .conftest import StartNode, eventually, keys_file, settings
from .test_live_proxy import seed

SEARCH = "/v1/collections/c/search"
_FRAMING = frozenset({"date", "content-length", "transfer-encoding"})


@pytest.fixture
def relayed(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """The paths of the requests the protocol relayed (routers run in this process)."""
    paths: list[str] = []
    start = SearchRelay.start

    def counting(self: SearchRelay) -> None:
        paths.append(self.scope["path"])
        start(self)

    monkeypatch.setattr(SearchRelay, "start", counting)
    yield paths


def same_answer(one: httpx.Response, other: httpx.Response) -> None:
    assert one.status_code == other.status_code
    assert one.content == other.content
    framed = [{k: v for k, v in a.headers.multi_items() if k not in _FRAMING} for a in (one, other)]
    assert framed[0] == framed[1]


async def test_relayed_answers_are_the_standard_paths(
    start_node: StartNode, relayed: list[str]
) -> None:
    node = start_node("us-east1", "e1")
    await seed(node.url)
    json = {"content-type": "application/json"}
    requests: list[tuple[str, bytes]] = [
        (SEARCH, b'{"vector": [1.0, 0.1, 0.0], "k": 2}'),
        (SEARCH, b'{"vector": [0.0, 1.0, 0.0], "k": 3, "filter": {"k": "b"}}'),
        (SEARCH + "?explain=1", b'{"vector": [1.0, 0.0, 0.0], "k": 1}'),
        (SEARCH + "/batch", b'{"queries": [{"vector": [1.0, 0.0, 0.0], "k": 1}]}'),
        (SEARCH, b'{"vector": [1.0, 0.0], "k": 2}'),  # wrong dimension: 400
        (SEARCH, b"{"),  # not JSON: 400
        ("/v1/collections/nope/search", b'{"vector": [1.0], "k": 1}'),  # 404
    ]
    async with (
        running_router(settings([node], proxy_mode="fast")) as fast,
        running_router(settings([node], proxy_mode="standard")) as standard,
        httpx.AsyncClient(timeout=10) as client,
    ):
        for path, body in requests:
            quick = await client.post(fast + path, content=body, headers=json)
            regular = await client.post(standard + path, content=body, headers=json)
            same_answer(quick, regular)
            assert "content-length" in quick.headers
        statuses = [
            (await client.post(fast + p, content=b, headers=json)).status_code for p, b in requests
        ]
        assert statuses == [200, 200, 200, 200, 400, 400, 404]
        assert relayed.count(SEARCH) == 2 * 5  # the query string is not part of the path
        assert relayed.count(SEARCH + "/batch") == 2
        # Not plain: an event stream and a 100-continue body take the ASGI way.
        before = len(relayed)
        events = await client.post(
            fast + SEARCH, content=requests[0][1], headers={**json, "accept": "text/event-stream"}
        )
        assert events.headers["content-type"].startswith("text/event-stream")
        waited = await client.post(
            fast + SEARCH, content=requests[0][1], headers={**json, "expect": "100-continue"}
        )
        assert waited.status_code == 200 and len(relayed) == before


async def test_relayed_refusals_are_the_standard_paths(
    start_node: StartNode, tmp_path: Path, relayed: list[str]
) -> None:
    node = start_node("us-east1", "e1")
    await seed(node.url)
    path, keys = keys_file(tmp_path, {"standard": {"rate": 0.01, "burst": 3}})
    query = {"vector": [1.0, 0.0, 0.0], "k": 1}
    async with (
        running_router(settings([node], keys_file=path)) as fast,
        running_router(settings([node], keys_file=path, proxy_mode="standard")) as standard,
        httpx.AsyncClient(timeout=10) as client,
    ):
        for headers in ({"x-api-key": "nope"}, {"authorization": "Bearer nope"}):
            quick = await client.post(fast + SEARCH, json=query, headers=headers)
            regular = await client.post(standard + SEARCH, json=query, headers=headers)
            assert quick.status_code == 401
            same_answer(quick, regular)
        limited = {"x-api-key": keys["standard"]}
        quick_answers = [
            await client.post(fast + SEARCH, json=query, headers=limited) for _ in range(5)
        ]
        regular_answers = [
            await client.post(standard + SEARCH, json=query, headers=limited) for _ in range(5)
        ]
        assert [a.status_code for a in quick_answers] == [200, 200, 200, 429, 429]
        for quick, regular in zip(quick_answers, regular_answers, strict=True):
            assert quick.status_code == regular.status_code
            if quick.status_code == 200:
                same_answer(quick, regular)
        # The wait left differs by the time between the two: the rest is the same.
        refused, theirs = quick_answers[3].json()["error"], regular_answers[3].json()["error"]
        assert refused["code"] == theirs["code"] == "rate_limited"
        assert refused["message"] == theirs["message"] and refused.keys() == theirs.keys()
        assert int(quick_answers[3].headers["retry-after"]) >= 1
        assert len(relayed) == 2 + 5


async def test_no_healthy_node_is_the_standard_503(relayed: list[str]) -> None:
    with socket.socket() as closed:  # a port nothing listens on
        closed.bind(("127.0.0.1", 0))
        dead = f"http://127.0.0.1:{closed.getsockname()[1]}"
    nodes = (NodeSpec("us-east1", dead, "gone"),)
    base: dict[str, Any] = {"default_region": "us-east1", "anonymous_tier": "premium"}
    async with (
        running_router(settings_for(nodes, base, "fast")) as fast,
        running_router(settings_for(nodes, base, "standard")) as standard,
        httpx.AsyncClient(timeout=10) as client,
    ):
        query = {"vector": [1.0, 0.0, 0.0], "k": 1}
        quick = await client.post(fast + SEARCH, json=query)
        regular = await client.post(standard + SEARCH, json=query)
        assert quick.status_code == 503 and quick.json()["error"]["code"] == "unavailable"
        same_answer(quick, regular)
        assert relayed == [SEARCH]


def settings_for(nodes: tuple[NodeSpec, ...], base: dict[str, Any], mode: str) -> RouterSettings:
    return RouterSettings(nodes=nodes, proxy_mode=mode, **base)


async def test_relayed_searches_go_around_a_killed_node(
    start_node: StartNode, relayed: list[str]
) -> None:
    e1, e2 = start_node("us-east1", "e1"), start_node("us-east1", "e2")
    for node in (e1, e2):
        await seed(node.url)
    query = {"vector": [1.0, 0.1, 0.0], "k": 1}
    async with (
        running_router(settings([e1, e2], probe_interval=30.0)) as url,
        httpx.AsyncClient(timeout=20) as client,
    ):
        warm = [await client.post(url + SEARCH, json=query) for _ in range(4)]
        assert {a.headers["x-ruvstream-node"] for a in warm} == {"e1", "e2"}  # both pooled
        e1.kill()  # its pooled connections die with it; a fresh one is refused
        answers = [await client.post(url + SEARCH, json=query) for _ in range(6)]
        assert [a.status_code for a in answers] == [200] * 6
        assert {a.headers["x-ruvstream-node"] for a in answers} == {"e2"}
        assert answers[0].json()["hits"][0]["id"] == "a"

        async def e1_down() -> bool:
            health = (await client.get(url + "/health")).json()
            return next(n for n in health["nodes"] if n["name"] == "e1")["healthy"] is False

        await eventually(e1_down)
        assert len(relayed) == 10


def pipelined(target: str, bodies: list[bytes], close_last: bool) -> bytes:
    """The requests in one write, as a pipelining client sends them."""
    requests = []
    for i, body in enumerate(bodies):
        last = close_last and i == len(bodies) - 1
        head = f"POST {target} HTTP/1.1\r\nhost: router\r\ncontent-type: application/json\r\n"
        head += f"content-length: {len(body)}\r\n" + ("connection: close\r\n" if last else "")
        requests.append(head.encode() + b"\r\n" + body)
    return b"".join(requests)


class _Answers:
    """httptools callbacks collecting (status, body) for each answer on a connection."""

    def __init__(self) -> None:
        self.done: list[tuple[int, bytes]] = []
        self._body: list[bytes] = []
        self.parser = httptools.HttpResponseParser(self)

    def on_body(self, body: bytes) -> None:
        self._body.append(body)

    def on_message_complete(self) -> None:
        self.done.append((self.parser.get_status_code(), b"".join(self._body)))
        self._body = []


async def pipelined_answers(
    url: str, data: bytes, count: int
) -> tuple[list[tuple[int, bytes]], bool]:
    """Send ``data`` in one write and read ``count`` answers; then, is the connection closed?"""
    host, port = url.removeprefix("http://").split(":")
    reader, writer = await asyncio.open_connection(host, int(port))
    answers = _Answers()
    try:
        writer.write(data)
        while len(answers.done) < count:
            chunk = await asyncio.wait_for(reader.read(65536), 10)
            assert chunk, f"closed after {len(answers.done)} answers"
            answers.parser.feed_data(chunk)
        try:  # closed at once after "connection: close"; else kept (for seconds)
            closed = await asyncio.wait_for(reader.read(1), 1.0) == b""
        except TimeoutError:
            closed = False
    finally:
        writer.close()
    return answers.done, closed


async def test_pipelined_and_kept_alive_requests_are_answered_in_order(
    start_node: StartNode, relayed: list[str]
) -> None:
    node = start_node("us-east1", "e1")
    await seed(node.url)
    bodies = [
        b'{"vector": [1.0, 0.0, 0.0], "k": 1}',
        b'{"vector": [1.0, 0.0], "k": 1}',
        b'{"vector": [0.0, 1.0, 0.0], "k": 2}',
        b'{"vector": [0.7, 0.7, 0.0], "k": 3}',
    ]
    async with (
        running_router(settings([node])) as fast,
        running_router(settings([node], proxy_mode="standard")) as standard,
    ):
        for close_last in (False, True):
            data = pipelined(SEARCH, bodies, close_last)
            quick, quick_closed = await pipelined_answers(fast, data, len(bodies))
            regular, regular_closed = await pipelined_answers(standard, data, len(bodies))
            assert quick == regular
            assert [status for status, _ in quick] == [200, 400, 200, 200]
            assert quick_closed is regular_closed is close_last
    assert len(relayed) == 2 * len(bodies)
