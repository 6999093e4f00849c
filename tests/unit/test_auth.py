"""The key file, the route map and the one check, as pure functions."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from ruvstream.auth import (
    Access,
    Guard,
    KeyFileError,
    OriginPolicy,
    digest,
    frame_refusal,
    load_key_file,
    new_key,
    parse_key_id,
    request_access,
    write_key_file,
)
from ruvstream.error_map import http_error
from ruvstream.errors import ForbiddenError, UnauthorizedError


def _scope(
    path: str, method: str = "GET", key: str | None = None, kind: str = "http", query: bytes = b""
) -> dict[str, Any]:
    headers = [(b"host", b"node")]
    if key is not None:
        headers.append((b"authorization", b"Bearer " + key.encode()))
    return {"type": kind, "method": method, "path": path, "headers": headers, "query_string": query}


def test_key_file_round_trip_keeps_hashes_only_and_other_fields(tmp_path: Path) -> None:
    entry, key = new_key("read,write", name="ingest", collections=["team-*"], tier="standard")
    path = tmp_path / "keys.json"
    write_key_file(path, [entry], {"anonymous": "free"})
    assert key not in path.read_text()
    assert path.stat().st_mode & 0o777 == 0o600
    entries, document = load_key_file(path)
    assert entries == [entry] and document["anonymous"] == "free"
    assert entry.hash == digest(key) and parse_key_id(key) == entry.id


@pytest.mark.parametrize(
    "body",
    [
        "not json",
        json.dumps({"keys": {}}),
        json.dumps({"keys": [{"id": "a", "hash": "md5:x", "scopes": ["read"]}]}),
        json.dumps({"keys": [{"key": "plain", "tier": "free"}]}),
        json.dumps({"keys": [{"id": "a", "hash": "sha256:" + "0" * 64, "scopes": ["root"]}]}),
    ],
)
def test_a_broken_key_file_is_refused(tmp_path: Path, body: str) -> None:
    path = tmp_path / "keys.json"
    path.write_text(body)
    with pytest.raises(KeyFileError):
        load_key_file(path)


@pytest.mark.parametrize(
    ("method", "path", "need"),
    [
        ("GET", "/health", None),
        ("GET", "/ready", None),
        ("GET", "/metrics", Access("read")),
        ("GET", "/v1/collections", Access("read")),
        ("POST", "/v1/collections/c/search", Access("read", "c")),
        ("POST", "/v1/collections/c/search/batch", Access("read", "c")),
        ("GET", "/v1/collections/c/records/r1", Access("read", "c")),
        ("POST", "/v1/collections/c/records", Access("write", "c")),
        ("POST", "/v1/collections/c/records/delete", Access("write", "c")),
        ("DELETE", "/v1/collections/c/records/r1", Access("write", "c")),
        ("PUT", "/v1/collections/c", Access("admin", "c")),
        ("DELETE", "/v1/collections/c", Access("admin", "c")),
        ("GET", "/v1/replication/snapshot", Access("admin", every_collection=True)),
        ("GET", "/nowhere", Access("read")),
        ("DELETE", "/v1/collections/c/", Access("admin", "c")),
        ("DELETE", "//v1//collections/c", Access("admin", "c")),
        ("GET", "/v1/replication", Access("admin", every_collection=True)),
        ("POST", "/admin/degradation", Access("admin", every_collection=True)),
        ("GET", "/admin/degradation", Access("admin", every_collection=True)),
    ],
)
def test_every_route_names_what_it_needs(method: str, path: str, need: Access | None) -> None:
    assert request_access(method, path) == need


def test_the_guard_answers_401_then_403_by_scope_and_collection() -> None:
    reader, read_key = new_key("read")
    writer, write_key = new_key("read,write", collections=["team-*"])
    admin, admin_key = new_key("admin")
    guard = Guard([reader, writer, admin])
    assert guard.check(_scope("/health")) is None
    with pytest.raises(UnauthorizedError):
        guard.check(_scope("/v1/collections"))
    with pytest.raises(UnauthorizedError):
        guard.check(_scope("/v1/collections", key=read_key[:-1] + "x"))
    with pytest.raises(UnauthorizedError):
        guard.check(_scope("/v1/collections", key="plain-guess"))
    assert guard.check(_scope("/v1/collections/x/search", "POST", read_key)) is not None
    with pytest.raises(ForbiddenError):
        guard.check(_scope("/v1/collections/x/records", "POST", read_key))
    with pytest.raises(ForbiddenError):
        guard.check(_scope("/v1/collections/x", "DELETE", read_key))
    assert guard.check(_scope("/v1/collections/team-a/records", "POST", write_key))
    with pytest.raises(ForbiddenError):
        guard.check(_scope("/v1/collections/other/records", "POST", write_key))
    with pytest.raises(ForbiddenError):
        guard.check(_scope("/v1/replication/snapshot", key=write_key))
    assert guard.check(_scope("/v1/collections/x", "DELETE", admin_key))
    assert guard.check(_scope("/v1/replication/snapshot", key=admin_key))


def test_a_websocket_key_may_come_in_the_query_and_frames_are_checked() -> None:
    reader, read_key = new_key("read", collections=["team-*"])
    guard = Guard([reader])
    principal = guard.check(
        _scope("/v1/ws", kind="websocket", query=b"api_key=" + read_key.encode())
    )
    assert principal is not None
    with pytest.raises(UnauthorizedError):
        guard.check(_scope("/v1/ws", kind="websocket"))
    # The query counts only for a WebSocket upgrade.
    with pytest.raises(UnauthorizedError):
        guard.check(_scope("/v1/collections", query=b"api_key=" + read_key.encode()))
    assert frame_refusal(principal, {"op": "search", "collection": "team-a"}) is None
    assert frame_refusal(principal, {"op": "ping"}) is None
    assert isinstance(
        frame_refusal(principal, {"op": "upsert", "collection": "team-a"}), ForbiddenError
    )
    assert isinstance(frame_refusal(principal, {"op": "search", "collection": "x"}), ForbiddenError)
    assert frame_refusal(None, {"op": "upsert", "collection": "x"}) is None


def test_origin_policy() -> None:
    def headers(origin: str | None, host: str = "node:8470") -> list[tuple[bytes, bytes]]:
        found = [(b"host", host.encode())]
        return found + ([(b"origin", origin.encode())] if origin else [])

    own = OriginPolicy()
    own.check(headers(None))
    own.check(headers("http://node:8470"))
    with pytest.raises(ForbiddenError):
        own.check(headers("https://evil.example"))
    listed = OriginPolicy(["https://app.example/"])
    listed.check(headers("https://app.example"))
    with pytest.raises(ForbiddenError):
        listed.check(headers("http://node:8470"))
    OriginPolicy(["*"]).check(headers("https://anything.example"))


def test_the_error_table_answers_403_and_challenges_401() -> None:
    forbidden = http_error(ForbiddenError("no"))
    assert forbidden.status == 403 and json.loads(forbidden.body)["error"]["code"] == "forbidden"
    unauthorized = http_error(UnauthorizedError("who"))
    assert unauthorized.status == 401
    assert ("www-authenticate", 'Bearer realm="ruvstream"') in unauthorized.headers


def test_open_metrics_opens_metrics_only() -> None:
    reader, _ = new_key("read")
    assert Guard([reader], open_metrics=True).check(_scope("/metrics")) is None
    with pytest.raises(UnauthorizedError):
        Guard([reader]).check(_scope("/metrics"))
    with pytest.raises(UnauthorizedError):
        Guard([reader], open_metrics=True).check(_scope("/v1/collections"))


def test_the_auth_package_exports_exactly_its_api() -> None:
    import ruvstream.auth

    assert set(ruvstream.auth.__all__) == {
        "KEY_PREFIX", "OPEN_PATHS", "PRINCIPAL", "SCOPES", "Access", "AuthMiddleware", "Guard",
        "KeyEntry", "KeyFileError", "OriginPolicy", "Principal", "authorize", "credentials",
        "digest", "frame_access", "frame_refusal", "load_key_file", "new_key", "parse_key_id",
        "parse_scopes", "refuse", "request_access", "write_key_file",
    }  # fmt: skip
    assert all(hasattr(ruvstream.auth, name) for name in ruvstream.auth.__all__)
