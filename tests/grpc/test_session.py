"""Session: many requests on one stream, replies tagged by id, pushed matches; health."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import grpc
import httpx
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc

from ruvstream.api.grpc import SERVICE_NAME
from ruvstream.api.grpc.v1 import vector_search_pb2 as pb
from ruvstream.api.grpc.v1 import vector_search_pb2_grpc as pb_grpc
from tests.grpc.conftest import GrpcNode, grpc_node_at

DEADLINE = 30.0


class Stream:
    """A Session whose requests the test sends one by one, and its replies."""

    def __init__(
        self, stub: pb_grpc.VectorSearchStub, metadata: tuple[tuple[str, str], ...] = ()
    ) -> None:
        self.requests: asyncio.Queue[pb.SessionRequest | None] = asyncio.Queue()
        self.call = stub.Session(self._requests(), metadata=metadata)

    async def _requests(self) -> AsyncIterator[pb.SessionRequest]:
        while (request := await self.requests.get()) is not None:
            yield request

    def send(self, request: pb.SessionRequest) -> None:
        self.requests.put_nowait(request)

    async def reply(self) -> pb.SessionReply:
        reply = await asyncio.wait_for(self.call.read(), DEADLINE)
        assert isinstance(reply, pb.SessionReply), reply
        return reply

    async def replies(self, count: int) -> dict[str, list[pb.SessionReply]]:
        by_id: dict[str, list[pb.SessionReply]] = {}
        for _ in range(count):
            reply = await self.reply()
            by_id.setdefault(reply.request_id, []).append(reply)
        return by_id


def _record(rid: str, vector: list[float], **meta: object) -> pb.Record:
    record = pb.Record(id=rid, vector=vector)
    record.metadata.update(meta)
    return record


async def test_session_answers_by_id_and_pushes_matches(grpc_node: GrpcNode) -> None:
    async with httpx.AsyncClient(base_url=grpc_node.url) as http:
        created = await http.put("/v1/collections/s", json={"dim": 2, "metric": "l2"})
        created.raise_for_status()
    async with grpc.aio.insecure_channel(grpc_node.target) as channel:
        stream = Stream(pb_grpc.VectorSearchStub(channel))
        stream.send(
            pb.SessionRequest(
                request_id="w1",
                upsert=pb.UpsertRequest(
                    collection="s",
                    records=[_record("a", [0, 0], v=1), _record("b", [5, 5])],
                    idempotency_key="key-1",
                ),
            )
        )
        assert (await stream.reply()).upsert == pb.UpsertReply(upserted=2, version=1)
        stream.send(
            pb.SessionRequest(
                request_id="sub",
                subscribe=pb.SubscribeRequest(collection="s", vector=[10, 10], min_score=-2.0),
            )
        )
        subscribed = await stream.reply()
        assert subscribed.request_id == "sub" and subscribed.subscribed.subscription
        sub_id = subscribed.subscribed.subscription
        # Several requests in flight at once, a bad one among them: each reply has its id.
        stream.send(
            pb.SessionRequest(
                request_id="q1", search=pb.SearchRequest(collection="s", vector=[1, 1], k=5)
            )
        )
        stream.send(
            pb.SessionRequest(request_id="bad", search=pb.SearchRequest(collection="s", vector=[1]))
        )
        stream.send(
            pb.SessionRequest(
                request_id="w1-again",
                upsert=pb.UpsertRequest(
                    collection="s", records=[_record("a", [0, 0])], idempotency_key="key-1"
                ),
            )
        )
        stream.send(pb.SessionRequest(request_id="none"))
        got = await stream.replies(4)
        assert [h.id for h in got["q1"][0].search.hits] == ["a", "b"]
        assert got["bad"][0].error.code == "dimension_mismatch"
        assert got["bad"][0].error.status == "INVALID_ARGUMENT"
        assert got["w1-again"][0].upsert.duplicate
        assert got["none"][0].error.code == "invalid_parameter"
        # A write from this stream and one over HTTP both reach the subscription.
        stream.send(
            pb.SessionRequest(
                request_id="w2",
                upsert=pb.UpsertRequest(collection="s", records=[_record("near", [10, 11], t=2)]),
            )
        )
        got = await stream.replies(2)
        assert got["w2"][0].upsert.upserted == 1
        async with httpx.AsyncClient(base_url=grpc_node.url) as http:
            far_and_near = [{"id": "far", "vector": [0, 1]}, {"id": "nearer", "vector": [10, 10]}]
            written = await http.post("/v1/collections/s/records", json={"records": far_and_near})
            written.raise_for_status()
        got["sub"].append(await stream.reply())
        matches = [r.match for r in got["sub"]]
        assert [
            (r.request_id, m.subscription, m.record.id)
            for r, m in zip(got["sub"], matches, strict=True)
        ] == [
            ("sub", sub_id, "near"),
            ("sub", sub_id, "nearer"),
        ]
        assert dict(matches[0].record.metadata) == {"t": 2.0}
        stream.send(
            pb.SessionRequest(
                request_id="d", delete=pb.DeleteRequest(collection="s", ids=["a", "zz"])
            )
        )
        stream.send(
            pb.SessionRequest(
                request_id="u", unsubscribe=pb.UnsubscribeRequest(subscription=sub_id)
            )
        )
        got = await stream.replies(2)
        assert got["d"][0].delete.deleted == 1
        assert got["u"][0].unsubscribed.subscription == sub_id
        stream.send(None)  # half-close: the stream ends cleanly
        assert await asyncio.wait_for(stream.call.read(), DEADLINE) is grpc.aio.EOF
        assert await stream.call.code() is grpc.StatusCode.OK
    async with httpx.AsyncClient(base_url=grpc_node.url) as http:
        assert (await http.get("/v1/collections/s")).json()["count"] == 4


@pytest.mark.parametrize("service", ["", SERVICE_NAME])
async def test_health_service_answers_serving(grpc_node: GrpcNode, service: str) -> None:
    """SERVING once the node is open (NOT_SERVING only while it loads or drains)."""
    serving = health_pb2.HealthCheckResponse.SERVING
    async with grpc.aio.insecure_channel(grpc_node.target) as channel:
        health = health_pb2_grpc.HealthStub(channel)
        request = health_pb2.HealthCheckRequest(service=service)
        deadline = asyncio.get_running_loop().time() + DEADLINE
        while (answer := await health.Check(request)).status != serving:
            assert answer.status == health_pb2.HealthCheckResponse.NOT_SERVING
            assert asyncio.get_running_loop().time() < deadline, "never SERVING"
            await asyncio.sleep(0.05)
        unknown = health_pb2.HealthCheckRequest(service="no.such.Service")
        with pytest.raises(grpc.aio.AioRpcError) as missing:
            await health.Check(unknown)
    assert missing.value.code() is grpc.StatusCode.NOT_FOUND


async def test_sigterm_ends_sessions_with_unavailable_and_the_node_exits_0(
    grpc_node: GrpcNode,
) -> None:
    async with httpx.AsyncClient(base_url=grpc_node.url) as http:
        (await http.put("/v1/collections/d", json={"dim": 2})).raise_for_status()
    async with grpc.aio.insecure_channel(grpc_node.target) as channel:
        stream = Stream(pb_grpc.VectorSearchStub(channel))
        stream.send(
            pb.SessionRequest(
                request_id="sub", subscribe=pb.SubscribeRequest(collection="d", vector=[1, 0], k=3)
            )
        )
        assert (await stream.reply()).subscribed.subscription
        code = await asyncio.to_thread(grpc_node.process.terminate)
        with pytest.raises(grpc.aio.AioRpcError) as ended:
            while True:
                await stream.reply()
        assert ended.value.code() is grpc.StatusCode.UNAVAILABLE
        stream.send(None)
    assert code == 0


async def test_open_sessions_count_against_the_connection_limit(tmp_path: Path) -> None:
    with grpc_node_at(tmp_path / "node", "--max-connections", "1") as node:
        async with grpc.aio.insecure_channel(node.target) as channel:
            stub = pb_grpc.VectorSearchStub(channel)
            stream = Stream(stub)
            stream.send(pb.SessionRequest(request_id="x"))  # answered: the stream is admitted
            assert (await stream.reply()).error.code == "invalid_parameter"
            with pytest.raises(grpc.aio.AioRpcError) as full:
                await stub.Search(pb.SearchRequest(collection="c"))
            assert full.value.code() is grpc.StatusCode.UNAVAILABLE
            assert dict(full.value.trailing_metadata() or ())["retry-after"] == "1"
            stream.send(None)
            assert await stream.call.code() is grpc.StatusCode.OK
            # The stream has closed: the next call is admitted (and finds no collection).
            with pytest.raises(grpc.aio.AioRpcError) as missing:
                await stub.Search(pb.SearchRequest(collection="c"))
            assert missing.value.code() is grpc.StatusCode.NOT_FOUND
