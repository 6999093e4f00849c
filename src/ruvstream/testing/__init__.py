"""Helpers for tests: real ruvstream processes (from ``ruvstream.devstack``) and GloVe data.

Test code only: no production module imports this package.
"""

from ruvstream.devstack import NodeProcess, RouterProcess, running_node

__all__ = ["NodeProcess", "RouterProcess", "running_node"]
