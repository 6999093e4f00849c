"""Names of a control plane's buckets, streams and subjects, all under one namespace.

One namespace is one control plane: tests give each theirs (and delete it),
deployments keep the default. Bucket and stream names allow ``A-Z a-z 0-9 _ -``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = ["ControlNames"]

_NAMESPACE = re.compile(r"^[A-Za-z0-9_-]{1,48}$")


@dataclass(frozen=True, slots=True)
class ControlNames:
    namespace: str = "ruvstream"

    def __post_init__(self) -> None:
        if not _NAMESPACE.match(self.namespace):
            raise ValueError(f"namespace {self.namespace!r}: use 1-48 of A-Z a-z 0-9 _ -")

    @property
    def members(self) -> str:
        return f"{self.namespace}-members"

    @property
    def election(self) -> str:
        return f"{self.namespace}-election"

    @property
    def tasks(self) -> str:
        return f"{self.namespace}-tasks"

    @property
    def swarm(self) -> str:
        return f"{self.namespace}-swarm"

    @property
    def scaling(self) -> str:
        """The leader's scaling state and decision log (``scaling_store``)."""
        return f"{self.namespace}-scaling"

    @property
    def buckets(self) -> tuple[str, ...]:
        return (self.members, self.election, self.tasks, self.swarm, self.scaling)

    @property
    def queue_stream(self) -> str:
        return f"{self.namespace}-work"

    @property
    def dead_stream(self) -> str:
        return f"{self.namespace}-dead"

    @property
    def subject_root(self) -> str:
        return f"{self.namespace}.control"

    def figures_subject(self, node_id: str = "*") -> str:
        return f"{self.subject_root}.figures.{node_id}"
