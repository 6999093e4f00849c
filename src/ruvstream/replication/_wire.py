"""Wire formats of the replication bus: pure functions, no I/O.

Subjects are ``<stream>.ops.<origin region>.<collection>`` for operation
records (one JetStream stream captures ``<stream>.ops.>``) and
``<stream>.hb.<region>`` for heartbeats, which travel outside the stream
(they are liveness signals, not history). Names that are not plain subject
tokens are hex-encoded behind a ``~`` so any collection name maps to exactly
one token and no name can inject a wildcard.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import msgspec

from ruvstream.core.records import OpRecord

__all__ = [
    "NODE_HEADER",
    "Delivery",
    "Heartbeat",
    "decode_heartbeat",
    "encode_heartbeat",
    "heartbeat_subject",
    "heartbeat_wildcard",
    "message_id",
    "ops_subject",
    "ops_wildcard",
    "subject_token",
    "validate_stream_name",
]

NODE_HEADER = "Ruvstream-Node"
"""Header naming the node that published an op, so it can skip its own."""

_PLAIN = re.compile(r"[A-Za-z0-9_-]+")


def subject_token(name: str) -> str:
    """One subject token for any name; injective, never a wildcard."""
    if _PLAIN.fullmatch(name):
        return name
    return "~" + name.encode().hex()


def validate_stream_name(stream: str) -> str:
    if not _PLAIN.fullmatch(stream):
        raise ValueError(f"stream name {stream!r} must match [A-Za-z0-9_-]+")
    return stream


def ops_subject(stream: str, origin: str, collection: str) -> str:
    return f"{stream}.ops.{subject_token(origin)}.{subject_token(collection)}"


def ops_wildcard(stream: str) -> str:
    return f"{stream}.ops.>"


def heartbeat_subject(stream: str, region: str) -> str:
    return f"{stream}.hb.{subject_token(region)}"


def heartbeat_wildcard(stream: str) -> str:
    return f"{stream}.hb.*"


def message_id(node: str, op: OpRecord) -> str:
    """The de-duplication id of a publish: retries of one op share it."""
    return f"{node}:{op.seq}:{op.hlc}"


class Heartbeat(msgspec.Struct, frozen=True):
    """Says: node ``node`` of ``region`` had published through bus sequence
    ``published_seq`` when it sent this. A receiver whose applied position
    reaches ``published_seq`` was caught up with that node at receipt time."""

    region: str
    node: str
    published_seq: int
    sent_at: float


_hb_encoder = msgspec.msgpack.Encoder()
_hb_decoder = msgspec.msgpack.Decoder(Heartbeat)


def encode_heartbeat(beat: Heartbeat) -> bytes:
    return _hb_encoder.encode(beat)


def decode_heartbeat(data: bytes) -> Heartbeat:
    return _hb_decoder.decode(data)


@dataclass(frozen=True, slots=True)
class Delivery:
    """One op as a consumer receives it; ``seq`` is its position in the bus."""

    seq: int
    node: str
    op: OpRecord
    redelivered: bool = False
