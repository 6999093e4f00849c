"""The gRPC codec and auth hook as pure functions: messages in, service fields out."""

from __future__ import annotations

from ruvstream.api.grpc import bearer_token, codec
from ruvstream.api.grpc.v1 import vector_search_pb2 as pb
from ruvstream.errors import RateLimitedError


def test_search_fields_read_as_json_would() -> None:
    request = pb.SearchRequest(collection="c", vector=[0.5, 1.0], k=3)
    request.filter.update({"bucket": {"$lt": 10}, "ratio": 0.5, "tags": ["a", 2]})
    fields = codec.search_fields(request)
    assert fields == {
        "vector": [0.5, 1.0],
        "k": 3,
        "filter": {"bucket": {"$lt": 10}, "ratio": 0.5, "tags": ["a", 2]},
    }
    assert isinstance(fields["filter"]["bucket"]["$lt"], int)
    # Unset optional fields are left to the service's defaults.
    assert codec.search_fields(pb.SearchRequest(collection="c")) == {"vector": []}
    sub = codec.subscribe_fields(pb.SubscribeRequest(vector=[1.0], min_score=0.25))
    assert sub == {"vector": [1.0], "min_score": 0.25}


def test_error_message_carries_the_error_whole() -> None:
    error = codec.error_message(RateLimitedError("slow down", retry_after=0.5, limit=8))
    assert (error.code, error.message, error.status) == (
        "rate_limited",
        "slow down",
        "RESOURCE_EXHAUSTED",
    )
    assert dict(error.details) == {"limit": 8.0} and error.retry_after == 0.5
    unexpected = codec.error_message(ValueError("boom"))
    assert (unexpected.code, unexpected.status) == ("internal", "INTERNAL")
    assert not unexpected.HasField("retry_after")


def test_bearer_token() -> None:
    assert bearer_token([("authorization", "Bearer abc ")]) == "abc"
    assert bearer_token([("Authorization", "bearer xyz")]) == "xyz"
    assert bearer_token([("authorization", "Basic abc")]) is None
    assert bearer_token([("other", "Bearer abc")]) is None
    assert bearer_token(None) is None
