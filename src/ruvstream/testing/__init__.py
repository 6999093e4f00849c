"""Helpers for tests and benchmarks that need real ruvstream processes."""

from ruvstream.testing.router import RouterProcess
from ruvstream.testing.server import NodeProcess, running_node

__all__ = ["NodeProcess", "RouterProcess", "running_node"]
