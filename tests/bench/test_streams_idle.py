"""``ruvstream bench streams-idle`` opens the streams it says and reports memory per stream."""

from __future__ import annotations

import re

from click.testing import CliRunner

from ruvstream.bench.cli import bench
from ruvstream.bench.streams_idle import ensure_file_limit


def test_streams_idle_opens_every_stream_against_a_node_it_starts() -> None:
    result = CliRunner().invoke(
        bench, ["streams-idle", "--count", "200", "--settle-seconds", "0.5"]
    )
    assert result.exit_code == 0, result.output
    assert "streams opened    200 of 200" in result.output
    per_stream = re.search(r"per stream\s+(-?[\d.]+) KiB", result.output)
    assert per_stream is not None, result.output
    assert "failed to open" not in result.output


def test_the_file_limit_is_raised_for_the_count() -> None:
    assert ensure_file_limit(1000) >= 1000
