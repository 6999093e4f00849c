"""Messages of ``ruvstream.v1`` to service input and answers back: pure functions.

Decoding yields the ``Fields`` every transport hands the service, so the
checks (dimension, k, filter) and their messages are the service's own. A
``Struct`` carries numbers as doubles; the decoder turns whole ones back
into integers, so a filter reads as it does from JSON (and keys the filter
cache the same way).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from google.protobuf import json_format, struct_pb2

from ruvstream.api.grpc.v1 import vector_search_pb2 as pb
from ruvstream.engine import Hit
from ruvstream.engine.subscriptions import Match
from ruvstream.error_map import as_ruvstream_error, grpc_status
from ruvstream.service import Fields

__all__ = [
    "delete_fields",
    "delete_reply",
    "error_message",
    "hit_message",
    "match_reply",
    "search_fields",
    "search_reply",
    "struct",
    "subscribe_fields",
    "upsert_fields",
    "upsert_reply",
]


def _plain(value: Any) -> Any:
    """A Struct value as JSON would have it: whole doubles become integers."""
    if isinstance(value, float) and value.is_integer() and abs(value) < 2**53:
        return int(value)
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def _fields(message: struct_pb2.Struct) -> dict[str, Any]:
    plain: dict[str, Any] = _plain(json_format.MessageToDict(message))
    return plain


def struct(values: Mapping[str, Any]) -> struct_pb2.Struct:
    message = struct_pb2.Struct()
    message.update(dict(values))
    return message


def search_fields(request: pb.SearchRequest) -> Fields:
    fields: Fields = {"vector": list(request.vector)}
    if request.HasField("k"):
        fields["k"] = request.k
    if request.HasField("ef"):
        fields["ef"] = request.ef
    if request.HasField("filter"):
        fields["filter"] = _fields(request.filter)
    return fields


def subscribe_fields(request: pb.SubscribeRequest) -> Fields:
    fields: Fields = {"vector": list(request.vector)}
    if request.HasField("k"):
        fields["k"] = request.k
    if request.HasField("min_score"):
        fields["min_score"] = request.min_score
    if request.HasField("filter"):
        fields["filter"] = _fields(request.filter)
    return fields


def upsert_fields(request: pb.UpsertRequest) -> Fields:
    return {
        "records": [
            {"id": r.id, "vector": list(r.vector), "metadata": _fields(r.metadata)}
            for r in request.records
        ]
    }


def delete_fields(request: pb.DeleteRequest) -> Fields:
    return {"ids": list(request.ids)}


def hit_message(hit: Hit | Match) -> pb.Hit:
    return pb.Hit(id=hit.id, score=hit.score, metadata=struct(hit.metadata))


def search_reply(answer: Mapping[str, Any]) -> pb.SearchReply:
    """The service's ``{"hits": [...], "version"}`` as a message."""
    hits = [
        pb.Hit(id=h["id"], score=h["score"], metadata=struct(h["metadata"])) for h in answer["hits"]
    ]
    return pb.SearchReply(hits=hits, version=answer["version"])


def upsert_reply(body: Mapping[str, Any]) -> pb.UpsertReply:
    return pb.UpsertReply(
        upserted=body["upserted"], version=body["version"], duplicate=bool(body.get("duplicate"))
    )


def delete_reply(body: Mapping[str, Any]) -> pb.DeleteReply:
    return pb.DeleteReply(
        deleted=body["deleted"], version=body["version"], duplicate=bool(body.get("duplicate"))
    )


def match_reply(request_id: str, match: Match) -> pb.SessionReply:
    return pb.SessionReply(
        request_id=request_id,
        match=pb.Match(subscription=match.subscription, record=hit_message(match)),
    )


def error_message(exc: BaseException) -> pb.Error:
    """Any failure as an ``Error`` (an unexpected one is logged and answered as internal)."""
    error = as_ruvstream_error(exc)
    message = pb.Error(code=error.code, message=error.message, status=grpc_status(error))
    if error.details:
        message.details.CopyFrom(struct(_json_safe(error.details)))
    if error.retry_after is not None:
        message.retry_after = error.retry_after
    return message


def _json_safe(value: Any) -> Any:
    """Details as a Struct can hold them: numbers, strings, booleans, lists, objects."""
    if isinstance(value, Mapping):
        return {str(k): _json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_json_safe(v) for v in value]
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return str(value)
