"""API keys and the key file node and router share.

A key is ``rvs_<id>_<secret>``: the id (12 hex digits) names its entry, the
secret (32 random bytes, URL-safe) is what makes it hard to guess. The file
keeps only ``sha256`` of the whole key, so a leaked file grants nothing; a
fast hash is enough because the key itself has 256 bits of entropy, and the
digest is compared with ``hmac.compare_digest``.

File format (JSON, one object)::

    {"keys": [{"id": "3f9a0c1d2e4b", "name": "acme-ingest",
               "hash": "sha256:<64 hex>", "scopes": ["read", "write"],
               "collections": ["acme-*"], "tier": "standard",
               "created_at": "2026-12-02T04:00:00Z"}],
     "tiers": {...}, "anonymous": "free"}

``collections`` (fnmatch patterns) is absent or null for a key that reaches
every collection; ``tier`` matters only to the router, which also reads the
optional ``tiers`` and ``anonymous`` fields. Any other top-level field is
kept as it is when ``ruvstream keys`` rewrites the file.
"""

from __future__ import annotations

import datetime
import hashlib
import json
import os
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = [
    "KEY_PREFIX",
    "SCOPES",
    "KeyEntry",
    "KeyFileError",
    "digest",
    "load_key_file",
    "new_key",
    "parse_key_id",
    "parse_scopes",
    "write_key_file",
]

KEY_PREFIX = "rvs_"
SCOPES = ("read", "write", "admin")
_ID_HEX = 12
_HASH = "sha256:"


class KeyFileError(ValueError):
    """The key file is missing, not JSON, or has an entry that makes no sense."""


@dataclass(frozen=True, slots=True)
class KeyEntry:
    """One issued key, as the file keeps it (never the key itself)."""

    id: str
    name: str
    hash: str
    scopes: frozenset[str]
    collections: tuple[str, ...] | None = None
    """fnmatch patterns of the collections the key reaches; None: every one."""
    tier: str = "free"
    created_at: str = ""

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "hash": self.hash,
            "scopes": sorted(self.scopes, key=SCOPES.index),
            "collections": list(self.collections) if self.collections is not None else None,
            "tier": self.tier,
            "created_at": self.created_at,
        }

    @classmethod
    def from_json(cls, data: Any) -> KeyEntry:
        if not isinstance(data, dict):
            raise KeyFileError(f"a key entry is an object, not {type(data).__name__}")
        key_id, hashed = data.get("id"), data.get("hash")
        if "key" in data and hashed is None:
            raise KeyFileError(
                "this entry holds a plain key (the router's old --keys-file format); "
                "issue keys with `ruvstream keys create`, which stores only their hashes"
            )
        if not isinstance(key_id, str) or not isinstance(hashed, str):
            raise KeyFileError("every key entry has a string id and hash")
        if not hashed.startswith(_HASH) or len(hashed) != len(_HASH) + 64:
            raise KeyFileError(f"key {key_id}: hash is sha256:<64 hex digits>")
        collections = data.get("collections")
        return cls(
            id=key_id,
            name=str(data.get("name") or key_id),
            hash=hashed,
            scopes=parse_scopes(data.get("scopes", [])),
            collections=None if collections is None else tuple(str(c) for c in collections),
            tier=str(data.get("tier") or "free"),
            created_at=str(data.get("created_at") or ""),
        )


def parse_scopes(scopes: Iterable[Any] | str) -> frozenset[str]:
    items = scopes.split(",") if isinstance(scopes, str) else scopes
    found = frozenset(str(s).strip() for s in items if str(s).strip())
    unknown = sorted(found - set(SCOPES))
    if unknown or not found:
        raise KeyFileError(f"scopes are some of {', '.join(SCOPES)}; got {sorted(found)}")
    return found


def digest(key: str) -> str:
    return _HASH + hashlib.sha256(key.encode()).hexdigest()


def parse_key_id(key: str) -> str | None:
    """The entry id a presented key names, or None if it is not shaped like one of ours."""
    if len(key) <= len(KEY_PREFIX) + _ID_HEX + 1 or not key.startswith(KEY_PREFIX):
        return None
    end = len(KEY_PREFIX) + _ID_HEX
    return key[len(KEY_PREFIX) : end] if key[end] == "_" else None


def new_key(
    scopes: Iterable[str] | str,
    *,
    name: str = "",
    collections: Iterable[str] | None = None,
    tier: str = "free",
) -> tuple[KeyEntry, str]:
    """A fresh entry and the key it was made from (shown once, never stored)."""
    key_id = secrets.token_hex(_ID_HEX // 2)
    key = f"{KEY_PREFIX}{key_id}_{secrets.token_urlsafe(32)}"
    now = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    entry = KeyEntry(
        id=key_id,
        name=name or key_id,
        hash=digest(key),
        scopes=parse_scopes(scopes),
        collections=tuple(collections) if collections is not None else None,
        tier=tier,
        created_at=now,
    )
    return entry, key


def load_key_file(path: Path) -> tuple[list[KeyEntry], dict[str, Any]]:
    """The entries, and the whole document (for the router's fields and for rewriting)."""
    try:
        document = json.loads(path.read_text())
    except FileNotFoundError:
        raise KeyFileError(f"no key file at {path}") from None
    except (OSError, ValueError) as exc:
        raise KeyFileError(f"cannot read the key file {path}: {exc}") from None
    if not isinstance(document, dict) or not isinstance(document.get("keys", []), list):
        raise KeyFileError(f"{path}: the key file is an object with a list of keys")
    entries = [KeyEntry.from_json(item) for item in document.get("keys", [])]
    ids = [e.id for e in entries]
    if len(set(ids)) != len(ids):
        raise KeyFileError(f"{path}: two keys share an id")
    return entries, document


def write_key_file(path: Path, entries: list[KeyEntry], document: dict[str, Any]) -> None:
    """Rewrite the file atomically, readable by its owner only."""
    body = {**document, "keys": [e.to_json() for e in entries]}
    staging = path.with_name(path.name + ".tmp")
    fd = os.open(staging, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as out:
        json.dump(body, out, indent=2)
        out.write("\n")
    os.replace(staging, path)
