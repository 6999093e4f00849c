"""The simulator's config file: JSON, every section optional, unknown fields refused.

::

    {"traffic": {"streams": 500e6, "queries_per_stream": 0.1,
                 "messages_per_stream": 0, "burst_as": "streams"},
     "platform": "cloud-run",            # or {"name": "vm-pool", "quota_per_region": 20000}
     "node_profile": "node-profile.json",  # relative to the config file
     "predictive": true, "noise": 0.02, "slo_p99_ms": 50, "tick_seconds": 10,
     "scaling": {...}}                    # ruvstream.control.scaling's config format

``scaling`` is the policies' own file format (``ScalingConfig.from_json``);
its budget defaults to unbounded here (the simulator asks what is needed),
and its node section is replaced by the node profile on the platform.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ruvstream.control.scaling import ScalingConfig, ScalingConfigError

from ._engine import NO_BUDGET, SimConfig
from ._node import NodeProfile
from ._platform import PLATFORMS, Platform
from ._traffic import Traffic

__all__ = ["SimConfigError", "load_config", "sim_config"]

_SECTIONS = {
    "traffic",
    "platform",
    "node_profile",
    "predictive",
    "noise",
    "slo_p99_ms",
    "tick_seconds",
    "scaling",
}


class SimConfigError(ValueError):
    """A config the simulator cannot run, with the field it is about."""


def load_config(path: Path) -> SimConfig:
    try:
        doc = json.loads(Path(path).read_text())
    except (OSError, json.JSONDecodeError) as exc:
        raise SimConfigError(f"{path}: cannot read JSON ({exc})") from None
    try:
        return sim_config(doc, Path(path).parent)
    except SimConfigError as exc:
        raise SimConfigError(f"{path}: {exc}") from None


def sim_config(doc: Any, base_dir: Path = Path()) -> SimConfig:
    if not isinstance(doc, dict):
        raise SimConfigError("expected a JSON object")
    unknown = sorted(set(doc) - _SECTIONS)
    if unknown:
        raise SimConfigError(f"unknown field(s) {', '.join(unknown)}")
    out = SimConfig()
    try:
        if "traffic" in doc:
            out = dataclasses.replace(out, traffic=_traffic(doc["traffic"]))
        if "platform" in doc:
            out = dataclasses.replace(out, platform=platform(doc["platform"]))
        if "node_profile" in doc:
            path = base_dir / str(doc["node_profile"])
            out = dataclasses.replace(out, node=NodeProfile.load(path))
        if "scaling" in doc:
            scaling = dict(doc["scaling"]) if isinstance(doc["scaling"], dict) else doc["scaling"]
            parsed = ScalingConfig.from_json(scaling)
            if "budget" not in scaling:
                parsed = dataclasses.replace(parsed, budget=NO_BUDGET)
            out = dataclasses.replace(out, scaling=parsed)
        for key in ("predictive",):
            if key in doc:
                out = dataclasses.replace(out, predictive=bool(doc[key]))
        numbers: dict[str, Any] = {
            key: _number(doc[key], key)
            for key in ("noise", "slo_p99_ms", "tick_seconds")
            if key in doc
        }
        out = dataclasses.replace(out, **numbers)
    except (ScalingConfigError, ValueError, TypeError) as exc:
        if isinstance(exc, SimConfigError):
            raise
        raise SimConfigError(str(exc)) from None
    return out


def platform(raw: object) -> Platform:
    """A platform by name, or by name with field overrides."""
    if isinstance(raw, str):
        raw = {"name": raw}
    if not isinstance(raw, dict) or raw.get("name") not in PLATFORMS:
        raise SimConfigError(f"platform: expected one of {', '.join(PLATFORMS)}")
    fields = {k: _number(v, f"platform.{k}") for k, v in raw.items() if k != "name"}
    return PLATFORMS[raw["name"]].with_overrides(fields)


def _traffic(raw: object) -> Traffic:
    if not isinstance(raw, Mapping):
        raise SimConfigError("traffic: expected a JSON object")
    known = {f.name for f in dataclasses.fields(Traffic)}
    unknown = sorted(set(raw) - known)
    if unknown:
        raise SimConfigError(f"traffic: unknown field(s) {', '.join(unknown)}")
    values: dict[str, Any] = {
        k: v if k == "burst_as" else _number(v, f"traffic.{k}") for k, v in raw.items()
    }
    return Traffic(**values)


def _number(raw: object, where: str) -> float:
    if isinstance(raw, bool) or not isinstance(raw, int | float):
        raise SimConfigError(f"{where}: expected a number, got {raw!r}")
    return float(raw)
