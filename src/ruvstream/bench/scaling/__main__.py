"""``python -m ruvstream.bench.scaling``: the same command as ``ruvstream bench scaling``."""

from ruvstream.bench.scaling.cli import scaling

scaling(prog_name="python -m ruvstream.bench.scaling")
