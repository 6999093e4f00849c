"""The control plane's public names are exactly what its packages promise."""

from __future__ import annotations

import importlib

import pytest

EXPORTS = {
    "ruvstream.control": {
        "KINDS", "PLACEMENTS", "AutoscaleSpec", "Candidate", "ControlMember", "ControlNames",
        "Coordinator", "Election", "Fence", "Figures", "FiguresReader", "Leadership", "Member",
        "MemberSettings", "MembershipEvent", "MembershipView", "NodeAgent", "NodeState",
        "Registry", "ScalingLoop", "ScalingStore", "Scheduler", "StaleTokenError", "Task",
        "TaskState", "TaskWorker", "Transition", "agent_queue", "cluster_status", "follow",
        "make_placement", "new_task", "node_executors", "read_leader", "read_tasks",
        "region_samples", "start_agent", "submit", "task_summary",
    },
    "ruvstream.control.store": {
        "Change", "CompareAndSetError", "CoordinationStore", "Entry", "InvalidKeyError",
        "KeyExistsError", "MemoryBackend", "MemoryStore", "RevisionMismatchError",
        "StoreBackend", "check_key", "open_backend",
    },
    "ruvstream.control.queue": {
        "Job", "MemoryWorkQueue", "WorkQueue", "check_queue", "queue_token",
    },
    "ruvstream.control.swarm": {
        "METRICS", "Actuator", "Desired", "Instance", "LocalActuator", "MemoryActuator",
        "RegionBounds", "SwarmManager", "ThresholdConfig", "ThresholdPolicy", "load_of",
    },
}  # fmt: skip


@pytest.mark.parametrize("name", sorted(EXPORTS))
def test_exports_are_exactly_the_documented_names(name: str) -> None:
    module = importlib.import_module(name)
    assert set(module.__all__) == EXPORTS[name]
    assert len(module.__all__) == len(set(module.__all__))
    for member in module.__all__:
        assert hasattr(module, member), f"{name}.{member}"
