"""ruvstream.control: the control plane (membership, election, agents, tasks, swarm, scaling).

Pure policy code on an injected clock; I/O (NATS JetStream KV and streams,
processes, the Kubernetes API) at the edges behind interfaces with an
in-memory implementation each. Consensus comes from JetStream KV
compare-and-set (Raft-backed), never from a vote of our own.

* ``store``: the coordination store (KV, compare-and-set, TTL, watch);
* ``Registry`` / ``follow``: node membership and its join/update/leave events;
* ``Election`` / ``Fence``: the leader's lease and the fencing token every
  action carries, refused when older than one already seen;
* ``NodeAgent``: inside each node: registry entry, figures, draining, tasks;
* ``Coordinator`` / ``Scheduler`` / ``TaskWorker``: durable control tasks;
* ``swarm``: desired nodes per region and the actuators that run them;
* ``ControlMember``: one ``ruvstream control`` process; ``cluster_status``;
* ``scaling``: the burst-scaling policies (calendar, forecast, predictor,
  reactive scaler, capacity manager, orchestrator, replay) the leader runs;
* ``ScalingLoop`` / ``AutoscaleSpec`` / ``ScalingStore``: the leader's round
  of those policies over the registry's figures, the swarm and the router.
"""

from .agent import NodeAgent, start_agent
from .autoscale import AutoscaleSpec, ScalingLoop, region_samples
from .coordinator import Coordinator, agent_queue, read_tasks, submit, task_summary
from .election import Election, Leadership, read_leader
from .executors import node_executors
from .fence import Fence, StaleTokenError
from .figures import Figures, FiguresReader
from .follow import MembershipEvent, MembershipView, follow
from .member import ControlMember, MemberSettings
from .membership import Member, NodeState, Registry
from .names import ControlNames
from .placement import PLACEMENTS, Candidate, make_placement
from .scaling_store import ScalingStore
from .scheduler import Scheduler, Transition
from .status import cluster_status
from .tasks import KINDS, Task, TaskState, new_task
from .worker import TaskWorker

__all__ = [
    "KINDS",
    "PLACEMENTS",
    "AutoscaleSpec",
    "Candidate",
    "ControlMember",
    "ControlNames",
    "Coordinator",
    "Election",
    "Fence",
    "Figures",
    "FiguresReader",
    "Leadership",
    "Member",
    "MemberSettings",
    "MembershipEvent",
    "MembershipView",
    "NodeAgent",
    "NodeState",
    "Registry",
    "ScalingLoop",
    "ScalingStore",
    "Scheduler",
    "StaleTokenError",
    "Task",
    "TaskState",
    "TaskWorker",
    "Transition",
    "agent_queue",
    "cluster_status",
    "follow",
    "make_placement",
    "new_task",
    "node_executors",
    "read_leader",
    "read_tasks",
    "region_samples",
    "start_agent",
    "submit",
    "task_summary",
]
