"""Wire bytes to decoded fields: JSON bodies and frames, the ``X-Ids`` header,
and the content types a body may come in.

What the fields must hold is checked once, for every transport, by the
service layer (``ruvstream.service.queries`` and ``records``).
"""

from __future__ import annotations

from typing import Any

import orjson

from ruvstream.errors import InvalidJsonError, InvalidParameterError, UnsupportedMediaTypeError

__all__ = ["JSON", "OCTET_STREAM", "media_type", "packed_ids", "parse_json", "require_media_type"]

JSON = "application/json"
OCTET_STREAM = "application/octet-stream"


def media_type(header: str | None) -> str:
    """The media type of a ``Content-Type`` value, lower case, without parameters."""
    return (header or "").split(";", 1)[0].strip().lower()


def require_media_type(header: str | None, *accepted: str) -> str:
    """The body's media type, one of ``accepted`` (no header: JSON); else 415.

    Refusing ``text/plain`` and form types matters beyond tidiness: a browser
    sends those cross-origin without a preflight, so a JSON route that parsed
    them would let any web page write to the node.
    """
    kind = media_type(header)
    if not kind:
        return JSON
    if kind not in accepted:
        raise UnsupportedMediaTypeError(
            f"this route takes {' or '.join(accepted)}, not {kind}",
            accepted=list(accepted),
            got=kind,
        )
    return kind


def parse_json(raw: bytes | str) -> dict[str, Any]:
    try:
        body = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise InvalidJsonError(f"malformed JSON: {exc}") from None
    if not isinstance(body, dict):
        raise InvalidJsonError("the body must be a JSON object")
    return body


def packed_ids(header: str | None) -> list[str]:
    """The ids of a binary upsert, comma separated in ``X-Ids``, one per float32 row
    (the service checks each as it checks every id)."""
    if not header:
        raise InvalidParameterError("binary upserts need the X-Ids header", field="X-Ids")
    return [i.strip() for i in header.split(",")]
