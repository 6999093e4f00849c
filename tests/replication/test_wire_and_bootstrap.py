"""Pure parts: subject tokens, heartbeat codec, installing a snapshot."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ruvstream.replication import Heartbeat, install_snapshot
from ruvstream.replication._wire import (
    decode_heartbeat,
    encode_heartbeat,
    ops_subject,
    subject_token,
    validate_stream_name,
)


@given(st.text(min_size=1, max_size=30), st.text(min_size=1, max_size=30))
def test_subject_tokens_are_injective_and_never_wildcards(a: str, b: str) -> None:
    for name in (a, b):
        token = subject_token(name)
        assert token and not set(token) & {".", "*", ">", " ", "\t", "\n"}
    assert (subject_token(a) == subject_token(b)) == (a == b)


def test_ops_subject_has_region_and_collection() -> None:
    assert ops_subject("s", "eu-west1", "docs") == "s.ops.eu-west1.docs"
    assert ops_subject("s", "eu", "a.b").count(".") == 3


def test_stream_names_are_checked() -> None:
    with pytest.raises(ValueError):
        validate_stream_name("bad.name")


def test_heartbeat_round_trips() -> None:
    beat = Heartbeat("asia-east1", "n", 7, 12.5)
    assert decode_heartbeat(encode_heartbeat(beat)) == beat


def _fake_snapshot(path: Path) -> Path:
    path.mkdir(parents=True)
    manifest = {"seq": 900, "collections": [], "dropped": {}, "extras": {}}
    (path / "manifest.json").write_text(json.dumps(manifest))
    return path


def test_installed_snapshot_covers_wal_sequence_zero(tmp_path: Path) -> None:
    installed = install_snapshot(_fake_snapshot(tmp_path / "peer"), tmp_path / "node")
    assert json.loads((installed / "manifest.json").read_text())["seq"] == 0
    assert installed.parent == tmp_path / "node" / "snapshots"


def test_install_refuses_a_data_dir_that_holds_data(tmp_path: Path) -> None:
    snapshot = _fake_snapshot(tmp_path / "peer")
    install_snapshot(snapshot, tmp_path / "node")
    with pytest.raises(ValueError, match="already holds data"):
        install_snapshot(snapshot, tmp_path / "node")
