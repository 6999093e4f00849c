"""Local multi-process deployments for development, benchmarks and tests.

``NodeProcess`` / ``running_node`` and ``RouterProcess`` start the real
``ruvstream serve`` and ``ruvstream router`` processes on loopback and wait
until they serve; ``LocalCluster`` runs regions x nodes in one process
(``ruvstream cluster``). Tests reach the launchers through ``ruvstream.testing``.
"""

from ruvstream.devstack.cluster import ClusterNode, LocalCluster
from ruvstream.devstack.node import NodeProcess, running_node
from ruvstream.devstack.router import RouterProcess

__all__ = ["ClusterNode", "LocalCluster", "NodeProcess", "RouterProcess", "running_node"]
