"""ruvstream.sim: the global capacity simulator and cost model.

- ``Scenario``/``SCENARIOS``: traffic shapes over the fifteen regions
  (baseline, daily peak, World Cup, product launch, flash crowd, region
  failure, cascade); ``Traffic``: streams, queries and messages per stream;
- ``NodeProfile``/``DEFAULT_PROFILE``: a measured node (``ruvstream bench
  profile``); ``Platform``/``PLATFORMS``: Cloud Run and a VM pool as data;
- ``Simulator``/``simulate``/``SimConfig``/``SimResult``: a run of the
  production scaling objects (``ruvstream.control.scaling``) on simulated
  time against simulated traffic;
- ``COST_TABLES``/``TOTALS``/``total``/``inconsistencies``: the original
  design's cost tables as data, a calculator and where they disagree;
  ``claims``: its headline claims beside a run.

The command line is ``ruvstream sim`` (``ruvstream.sim.cli:sim``).
"""

from ._claims import Claim, claims
from ._costmodel import (
    BURST_README,
    COST_TABLES,
    TOTALS,
    CostItem,
    Inconsistency,
    inconsistencies,
    per_stream_month,
    total,
)
from ._engine import SimConfig, Simulator, simulate
from ._node import DEFAULT_PROFILE, NodeProfile, capacity
from ._platform import PLATFORMS, Platform
from ._result import HOURS_PER_MONTH, SimResult
from ._scenarios import SCENARIOS, Scenario
from ._traffic import BURST_MODES, Traffic

__all__ = [
    "BURST_MODES",
    "BURST_README",
    "COST_TABLES",
    "DEFAULT_PROFILE",
    "HOURS_PER_MONTH",
    "PLATFORMS",
    "SCENARIOS",
    "TOTALS",
    "Claim",
    "CostItem",
    "Inconsistency",
    "NodeProfile",
    "Platform",
    "Scenario",
    "SimConfig",
    "SimResult",
    "Simulator",
    "Traffic",
    "capacity",
    "claims",
    "inconsistencies",
    "per_stream_month",
    "simulate",
    "total",
]
