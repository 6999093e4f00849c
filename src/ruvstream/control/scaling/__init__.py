"""ruvstream.control.scaling: burst scaling decisions, pure and on an injected clock.

- ``Calendar``/``CalendarEvent``/``PATTERNS``: the event calendar and the burst
  patterns it resolves events against (JSON file format with validation);
- ``forecast``/``seasonal_naive``/``smape``/``mase``: per-region demand forecasts;
- ``Predictor``: calendar + forecast -> instances each region needs within the
  pre-warm lead (derived from the node's measured start-up, ``NodeCapacity``);
- ``ReactiveScaler``: Knative-style stable/panic windows over node samples;
- ``CapacityManager``: region limits, cost, budgets (``BudgetLedger``) and
  degradation levels (``LADDER``, ``DegradationPolicy``, ``DegradationPlan``);
- ``Orchestrator``: one tick = max(predicted, reactive) within limits and
  budget, a ``DecisionLog`` and ``ScalingMetrics``, acting through the ports
  ``CapacityActuator``, ``DegradationPort`` (``HttpDegradationPort``) and
  remembering through a ``StateStore``;
- ``replay``/``ScalingSimulation``/``SimulatedFleet``/``serve``: the simulation core the replay and
  the global simulator run these objects on.

The command line is ``ruvstream scale`` (``ruvstream.control.scaling.cli:scale``).
"""

from .budget import WINDOWS, BudgetConfig, BudgetLedger, WindowStatus
from .calendar import (
    CONSERVATIVE,
    PATTERNS,
    TYPE_ALIASES,
    BurstPattern,
    Calendar,
    CalendarEvent,
    ResolvedEvent,
)
from .capacity import Allocation, CapacityManager, RegionPolicy, region_policy
from .config import ScalingConfig, SimulationConfig
from .decisions import REASONS, Decision, DecisionLog, ScalingMetrics
from .degradation import (
    LADDER,
    DegradationActions,
    DegradationConfig,
    DegradationLevel,
    DegradationPlan,
    DegradationPolicy,
    TierActions,
)
from .errors import (
    CalendarError,
    PortError,
    ScalingConfigError,
    ScalingError,
    StaleFencingTokenError,
    TraceError,
)
from .forecast import Forecast, forecast, mase, seasonal_naive, smape
from .http_port import DEGRADATION_PATH, HttpDegradationPort
from .orchestrator import STATE_KEYS, Orchestrator, TickPlan
from .ports import (
    CapacityActuator,
    DegradationPort,
    MemoryDegradationPort,
    MemoryStateStore,
    StateStore,
)
from .predictor import Prediction, Predictor, PredictorConfig, PrewarmStep
from .reactive import (
    ReactiveConfig,
    ReactiveDecision,
    ReactiveScaler,
    ReactiveTargets,
    RegionSample,
)
from .replay import ReplayResult, ReplayTick, ScalingSimulation, build_orchestrator, replay
from .simulation import SimulatedFleet, TickLoad, TierMix, region_sample, serve
from .sizing import NodeCapacity
from .trace import Trace, TraceRow

__all__ = [
    "CONSERVATIVE",
    "DEGRADATION_PATH",
    "LADDER",
    "PATTERNS",
    "REASONS",
    "STATE_KEYS",
    "TYPE_ALIASES",
    "WINDOWS",
    "Allocation",
    "BudgetConfig",
    "BudgetLedger",
    "BurstPattern",
    "Calendar",
    "CalendarError",
    "CalendarEvent",
    "CapacityActuator",
    "CapacityManager",
    "Decision",
    "DecisionLog",
    "DegradationActions",
    "DegradationConfig",
    "DegradationLevel",
    "DegradationPlan",
    "DegradationPolicy",
    "DegradationPort",
    "Forecast",
    "HttpDegradationPort",
    "MemoryDegradationPort",
    "MemoryStateStore",
    "NodeCapacity",
    "Orchestrator",
    "PortError",
    "Prediction",
    "Predictor",
    "PredictorConfig",
    "PrewarmStep",
    "ReactiveConfig",
    "ReactiveDecision",
    "ReactiveScaler",
    "ReactiveTargets",
    "RegionPolicy",
    "RegionSample",
    "ReplayResult",
    "ReplayTick",
    "ResolvedEvent",
    "ScalingConfig",
    "ScalingConfigError",
    "ScalingError",
    "ScalingMetrics",
    "ScalingSimulation",
    "SimulatedFleet",
    "SimulationConfig",
    "StaleFencingTokenError",
    "StateStore",
    "TickLoad",
    "TickPlan",
    "TierActions",
    "TierMix",
    "Trace",
    "TraceError",
    "TraceRow",
    "WindowStatus",
    "build_orchestrator",
    "forecast",
    "mase",
    "region_policy",
    "region_sample",
    "replay",
    "seasonal_naive",
    "serve",
    "smape",
]
