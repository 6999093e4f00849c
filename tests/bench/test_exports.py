"""The public surface of ruvstream.bench: curated exports and the bench commands."""

from __future__ import annotations

import ruvstream.bench as bench_pkg
import ruvstream.bench.peers as peers_pkg
from ruvstream.bench.cli import bench


def test_every_exported_name_resolves() -> None:
    for package in (bench_pkg, peers_pkg):
        for name in package.__all__:
            assert getattr(package, name) is not None, name


def test_bench_group_has_the_documented_commands() -> None:
    assert set(bench.commands) == {
        "run",
        "list",
        "report",
        "compare",
        "peers",
        "ingest",
        "node",
        "router",
        "replication",
        "scaling",
        "profile",
        "startup",
        "streams-idle",
        "standing",
        "dataset",
    }
