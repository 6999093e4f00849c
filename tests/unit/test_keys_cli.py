"""``ruvstream keys``: a key is printed once, listed without its secret, revoked by name."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from ruvstream.auth import Guard
from ruvstream.cli.main import main


def _keys(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, ["keys", *args])
    return result.exit_code, result.stdout, result.stderr


def test_create_list_revoke(tmp_path: Path) -> None:
    path = tmp_path / "keys.json"
    code, out, _ = _keys(
        "create", "--file", str(path), "--scopes", "read,write", "--collections", "team-*",
        "--tier", "standard", "--name", "ingest",
    )  # fmt: skip
    assert code == 0
    key = out.strip()
    assert key.startswith("rvs_") and key not in path.read_text()
    principal = Guard.from_file(path).authenticate(key)
    assert principal.scopes == {"read", "write"} and principal.collections == ("team-*",)
    assert principal.tier == "standard" and principal.name == "ingest"
    code, listed, _ = _keys("list", "--file", str(path), "--json")
    (shown,) = [json.loads(line) for line in listed.splitlines()]
    assert shown["name"] == "ingest" and "hash" not in shown and key not in listed
    assert _keys("create", "--file", str(path), "--scopes", "read", "--name", "ingest")[0] == 1
    assert _keys("create", "--file", str(path), "--scopes", "root")[0] == 2
    assert _keys("revoke", "--file", str(path), "ingest")[0] == 0
    assert len(Guard.from_file(path)) == 0
    assert _keys("revoke", "--file", str(path), "ingest")[0] == 1
