"""The ``ruvstream`` command line."""

from ruvstream.cli.main import main

__all__ = ["main"]
