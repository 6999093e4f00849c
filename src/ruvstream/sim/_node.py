"""The node profile: what one measured node carries, read from a benchmark result file.

``ruvstream bench profile`` measures a node on this machine and writes the
file; ``DEFAULT_PROFILE`` is the one measured here and checked in. Fields:

- ``qps_per_core`` at ``recall_at_10`` (searches a core serves at full load);
- ``p99_ms_by_load``: ``[[share of full load, p99 ms], ...]`` (rising);
- ``streams_per_gb``: open streams a GB of memory holds;
- ``startup_seconds`` (process start to ready with an empty data dir) and
  ``index_load_seconds`` (start-up from a snapshot of ``vectors`` vectors,
  less the empty start-up);
- ``cores``, ``vectors``, ``dim``, ``measured_at``, ``command``: provenance.

``capacity`` turns a profile and a platform into the ``NodeCapacity`` the
scaling policies size with (the production class, not a copy).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from ruvstream.control.scaling import NodeCapacity

from ._platform import Platform
from ._traffic import piecewise

__all__ = ["DEFAULT_PROFILE", "NodeProfile", "capacity"]

PROFILE_VERSION = 1
_FIELDS = (
    "qps_per_core",
    "recall_at_10",
    "streams_per_gb",
    "startup_seconds",
    "index_load_seconds",
    "cores",
    "vectors",
    "dim",
)


@dataclass(frozen=True, slots=True)
class NodeProfile:
    qps_per_core: float
    recall_at_10: float
    p99_ms_by_load: tuple[tuple[float, float], ...]
    streams_per_gb: float
    startup_seconds: float
    index_load_seconds: float
    cores: float
    vectors: int
    dim: int
    measured_at: str = ""
    command: str = ""

    def __post_init__(self) -> None:
        if self.qps_per_core <= 0 or self.streams_per_gb <= 0 or not self.p99_ms_by_load:
            raise ValueError("node profile: qps_per_core, streams_per_gb and p99 curve needed")

    def p99_ms(self, load: float) -> float:
        """p99 at ``load`` (share of full load), interpolated on the measured curve."""
        return piecewise(self.p99_ms_by_load, load)

    @classmethod
    def from_json(cls, doc: Any) -> NodeProfile:
        if not isinstance(doc, dict) or doc.get("version") != PROFILE_VERSION:
            raise ValueError(f"node profile: expected an object with version {PROFILE_VERSION}")
        missing = [f for f in (*_FIELDS, "p99_ms_by_load") if f not in doc]
        if missing:
            raise ValueError(f"node profile: missing {', '.join(missing)}")
        curve = tuple((float(a), float(b)) for a, b in doc["p99_ms_by_load"])
        return cls(
            qps_per_core=float(doc["qps_per_core"]),
            recall_at_10=float(doc["recall_at_10"]),
            p99_ms_by_load=tuple(sorted(curve)),
            streams_per_gb=float(doc["streams_per_gb"]),
            startup_seconds=float(doc["startup_seconds"]),
            index_load_seconds=float(doc["index_load_seconds"]),
            cores=float(doc["cores"]),
            vectors=int(doc["vectors"]),
            dim=int(doc["dim"]),
            measured_at=str(doc.get("measured_at", "")),
            command=str(doc.get("command", "")),
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "version": PROFILE_VERSION,
            **{f: getattr(self, f) for f in _FIELDS},
            "p99_ms_by_load": [list(p) for p in self.p99_ms_by_load],
            "measured_at": self.measured_at,
            "command": self.command,
        }

    @classmethod
    def load(cls, path: Path) -> NodeProfile:
        try:
            return cls.from_json(json.loads(Path(path).read_text()))
        except (json.JSONDecodeError, TypeError, ValueError) as exc:
            raise ValueError(f"{path}: {exc}") from None


def _default() -> NodeProfile:
    text = resources.files("ruvstream.sim").joinpath("node-profile.json").read_text()
    return NodeProfile.from_json(json.loads(text))


DEFAULT_PROFILE = _default()


def capacity(profile: NodeProfile, platform: Platform) -> NodeCapacity:
    """Per-instance figures on ``platform``: QPS from its cores, streams from its memory
    (within its socket cap), start-up = platform start + node start + index load."""
    streams = min(platform.max_streams_per_instance, profile.streams_per_gb * platform.memory_gb)
    return NodeCapacity(
        qps_per_instance=profile.qps_per_core * platform.vcpus,
        streams_per_instance=streams,
        startup_seconds=platform.startup_seconds
        + profile.startup_seconds
        + profile.index_load_seconds,
    )
