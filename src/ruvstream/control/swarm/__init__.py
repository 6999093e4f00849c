"""The swarm: desired nodes per region, turned into running nodes through an actuator.

``SwarmManager`` reconciles each region to its desired count (set by the
threshold policy here, or by anyone holding the leader's token through
``set_desired``) and retires nodes gracefully; actuators (in memory, local
processes, Kubernetes/Knative) pass one contract suite.
"""

from .actuator import Actuator, Instance, MemoryActuator
from .local import LocalActuator
from .manager import Desired, SwarmManager
from .policy import METRICS, RegionBounds, ThresholdConfig, ThresholdPolicy, load_of

__all__ = [
    "METRICS",
    "Actuator",
    "Desired",
    "Instance",
    "LocalActuator",
    "MemoryActuator",
    "RegionBounds",
    "SwarmManager",
    "ThresholdConfig",
    "ThresholdPolicy",
    "load_of",
]
