"""Wire bytes to decoded fields: JSON bodies and frames, the ``X-Ids`` header.

What the fields must hold is checked once, for every transport, by the
service layer (``ruvstream.service.queries`` and ``records``).
"""

from __future__ import annotations

from typing import Any

import orjson

from ruvstream.errors import InvalidJsonError, InvalidParameterError
from ruvstream.service import check_id

__all__ = ["packed_ids", "parse_json"]


def parse_json(raw: bytes | str) -> dict[str, Any]:
    try:
        body = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise InvalidJsonError(f"malformed JSON: {exc}") from None
    if not isinstance(body, dict):
        raise InvalidJsonError("the body must be a JSON object")
    return body


def packed_ids(header: str | None) -> list[str]:
    """The ids of a binary upsert, comma separated in ``X-Ids``, one per float32 row."""
    if not header:
        raise InvalidParameterError("binary upserts need the X-Ids header", field="X-Ids")
    return [check_id(i.strip(), "X-Ids entry") for i in header.split(",")]
