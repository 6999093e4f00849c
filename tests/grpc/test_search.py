"""Search and StreamSearch from generated stubs agree with HTTP, hit for hit."""

from __future__ import annotations

from typing import Any

import grpc
import httpx
import numpy as np
import pytest
from google.protobuf import json_format

from ruvstream.api.grpc.v1 import vector_search_pb2 as pb
from ruvstream.api.grpc.v1 import vector_search_pb2_grpc as pb_grpc
from ruvstream.errors import InvalidVectorError, from_payload
from tests.grpc.conftest import GrpcNode

K = 10
FILTER = {"bucket": {"$lt": 10}, "group": {"$in": ["g1", "g3"]}}


def _request(query: np.ndarray, filter_: dict[str, Any] | None = None) -> pb.SearchRequest:
    request = pb.SearchRequest(collection="glove", vector=query.tolist(), k=K)
    if filter_ is not None:
        request.filter.update(filter_)
    return request


def _hits(hits: Any) -> list[tuple[str, float, dict[str, Any]]]:
    return [(h.id, h.score, json_format.MessageToDict(h.metadata)) for h in hits]


def _http_hits(http: httpx.Client, query: np.ndarray, filter_: Any) -> list[Any]:
    body: dict[str, Any] = {"vector": query.tolist(), "k": K}
    if filter_ is not None:
        body["filter"] = filter_
    answer = http.post("/v1/collections/glove/search", json=body).json()
    return [(h["id"], h["score"], h["metadata"]) for h in answer["hits"]]


@pytest.mark.parametrize("filter_", [None, FILTER], ids=["plain", "filtered"])
async def test_search_and_stream_search_match_http(
    glove_grpc_node: GrpcNode, glove: tuple[np.ndarray, np.ndarray], filter_: Any
) -> None:
    _, queries = glove
    with httpx.Client(base_url=glove_grpc_node.url, timeout=30) as http:
        expected = [_http_hits(http, q, filter_) for q in queries]
    assert all(len(hits) == K for hits in expected)
    async with grpc.aio.insecure_channel(glove_grpc_node.target) as channel:
        stub = pb_grpc.VectorSearchStub(channel)
        unary = [_hits((await stub.Search(_request(q, filter_))).hits) for q in queries]
        streamed = []
        for q in queries:
            streamed.append(_hits([hit async for hit in stub.StreamSearch(_request(q, filter_))]))
    # Scores are the same doubles; metadata numbers come back as doubles and compare equal.
    assert unary == expected
    assert streamed == expected


async def test_errors_carry_the_tables_status_and_the_error(glove_grpc_node: GrpcNode) -> None:
    async with grpc.aio.insecure_channel(glove_grpc_node.target) as channel:
        stub = pb_grpc.VectorSearchStub(channel)
        with pytest.raises(grpc.aio.AioRpcError) as missing:
            await stub.Search(pb.SearchRequest(collection="nope", vector=[0.0] * 50))
        assert missing.value.code() is grpc.StatusCode.NOT_FOUND
        with pytest.raises(grpc.aio.AioRpcError) as short:
            await stub.Search(pb.SearchRequest(collection="glove", vector=[1.0, 2.0]))
        assert short.value.code() is grpc.StatusCode.INVALID_ARGUMENT
        with pytest.raises(grpc.aio.AioRpcError) as bad_k:
            stream = stub.StreamSearch(
                pb.SearchRequest(collection="glove", vector=[0.1] * 50, k=100_000)
            )
            _ = [hit async for hit in stream]
        assert bad_k.value.code() is grpc.StatusCode.INVALID_ARGUMENT
    trailers = dict(missing.value.trailing_metadata() or ())
    assert trailers["ruvstream-error-code"] == "collection_not_found"
    error = pb.Error.FromString(dict(short.value.trailing_metadata() or ())["ruvstream-error-bin"])
    assert error.status == "INVALID_ARGUMENT"
    payload = {"code": error.code, "message": error.message}
    assert isinstance(from_payload(payload, 400), InvalidVectorError)
