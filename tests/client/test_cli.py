"""``ruvstream client`` against a real node."""

from __future__ import annotations

import json
import threading

from click.testing import CliRunner

from ruvstream.client import Client
from ruvstream.client.cli import client
from ruvstream.testing import NodeProcess


def run(node: NodeProcess, *args: str) -> list[dict[str, object]]:
    result = CliRunner().invoke(client, ["--url", node.url, *args], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return [json.loads(line) for line in result.output.splitlines()]


def test_create_info_and_search(node: NodeProcess, name: str) -> None:
    assert run(node, "create", name, "--dim", "3")[0]["dim"] == 3
    with Client(node.url) as api:
        api.upsert(name, [("a", [1, 0, 0], {"g": 1}), ("b", [0, 1, 0])])
    assert run(node, "info", name)[0]["count"] == 2
    hits = run(node, "search", name, "--vector", "1,0.1,0", "-k", "2")
    assert [h["id"] for h in hits] == ["a", "b"] and hits[0]["metadata"] == {"g": 1}


def test_watch_prints_matches(node: NodeProcess, name: str) -> None:
    with Client(node.url) as api:
        api.create_collection(name, 3)
        stop = threading.Event()

        def write_until_seen() -> None:
            while not stop.wait(0.2):
                api.upsert(name, [("m", [0, 0, 1])])

        writer = threading.Thread(target=write_until_seen)
        writer.start()
        try:
            out = run(node, "watch", name, "--vector", "0,0,1", "--min-score", "0.9", "--count=1")
        finally:
            stop.set()
            writer.join()
    assert out[0]["id"] == "m"
