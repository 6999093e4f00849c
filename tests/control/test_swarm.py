"""The swarm: threshold policy with cooldowns, desired counts fenced by token, graceful
retirement through the registry, on a clock the test moves."""

from __future__ import annotations

from dataclasses import replace

import pytest

from ruvstream.control.fence import StaleTokenError
from ruvstream.control.figures import Figures
from ruvstream.control.membership import NodeState
from ruvstream.control.store import MemoryStore
from ruvstream.control.swarm import (
    Desired,
    MemoryActuator,
    RegionBounds,
    SwarmManager,
    ThresholdConfig,
    ThresholdPolicy,
)
from ruvstream.core.clock import ManualClock

from .helpers import member, registry

CONFIG = ThresholdConfig(metric="qps", scale_up=50, scale_down=10, up_cooldown=5, down_cooldown=20)


def policy(clock: ManualClock, low: int = 1, high: int = 3) -> ThresholdPolicy:
    return ThresholdPolicy(CONFIG, {"r1": RegionBounds(low, high)}, clock)


def test_scale_up_waits_for_its_cooldown_and_stops_at_max() -> None:
    clock = ManualClock()
    p = policy(clock)
    assert p.decide("r1", 1, [80.0]) == 2
    assert p.decide("r1", 2, [80.0, 80.0]) == 2  # cooling down
    clock.advance(5.0)
    assert p.decide("r1", 2, [80.0, 80.0]) == 3
    clock.advance(5.0)
    assert p.decide("r1", 3, [80.0] * 3) == 3  # at max


def test_scale_down_is_gradual_never_below_min_and_waits_after_any_change() -> None:
    clock = ManualClock()
    p = policy(clock)
    assert p.decide("r1", 1, [80.0]) == 2
    clock.advance(10.0)
    assert p.decide("r1", 2, [1.0, 1.0]) == 2  # 20 s must pass since the scale-up
    clock.advance(10.0)
    assert p.decide("r1", 2, [1.0, 1.0]) == 1
    clock.advance(100.0)
    assert p.decide("r1", 1, [0.0]) == 1
    assert p.decide("r1", 0, []) == 1 and p.decide("r1", 9, [100.0]) == 3  # clamped


def test_thresholds_must_make_sense() -> None:
    with pytest.raises(ValueError):
        ThresholdConfig(scale_up=10, scale_down=20)
    with pytest.raises(ValueError):
        ThresholdConfig(metric="vibes")
    with pytest.raises(ValueError):
        RegionBounds(3, 2)


async def test_set_desired_is_clamped_and_fenced() -> None:
    clock = ManualClock()
    manager = SwarmManager(
        registry(clock), MemoryActuator(), MemoryStore("swarm"), {"r1": RegionBounds(1, 4)}
    )
    assert await manager.set_desired("r1", 9, token=7) == 4
    with pytest.raises(StaleTokenError):
        await manager.set_desired("r1", 2, token=6)
    assert await manager.desired("r1") == Desired(4, 7)
    with pytest.raises(ValueError):
        await manager.set_desired("mars", 1, token=7)


async def test_the_manager_grows_under_load_and_retires_gracefully_after() -> None:
    clock = ManualClock()
    reg = registry(clock)
    actuator = MemoryActuator()
    manager = SwarmManager(
        reg,
        actuator,
        MemoryStore("swarm"),
        {"r1": RegionBounds(1, 2)},
        policy=policy(clock, 1, 2),
        retire_grace=2.0,
        clock=clock,
    )

    async def report(qps: float) -> None:
        for instance in await actuator.instances("r1"):
            await reg.heartbeat(replace(member(instance.id)), Figures(qps=qps))

    await manager.step(token=1)
    assert [i.id for i in await actuator.instances("r1")] == ["r1-1"]  # min
    await report(100.0)
    await manager.step(token=1)
    assert len(await actuator.instances("r1")) == 2
    await report(2.0)
    clock.advance(21.0)
    await report(2.0)
    await manager.step(token=1)  # marks one node draining, stops nothing yet
    draining = [m for m in await reg.members() if m.state is NodeState.DRAINING]
    assert len(draining) == 1 and draining[0].token == 1
    assert len(await actuator.instances("r1")) == 2
    clock.advance(1.0)
    await manager.step(token=1)
    assert len(await actuator.instances("r1")) == 2  # still within the grace
    clock.advance(1.5)
    await manager.step(token=1)
    left = await actuator.instances("r1")
    assert [i.id for i in left] == [i for i in ("r1-1", "r1-2") if i != draining[0].id]
    for _ in range(5):
        clock.advance(30.0)
        await report(0.0)
        await manager.step(token=1)
    assert len(await actuator.instances("r1")) == 1  # never below min
    assert [e[0] for e in manager.events] == ["up", "up", "retire", "down"]


async def test_a_step_under_an_older_token_is_refused() -> None:
    clock = ManualClock()
    manager = SwarmManager(
        registry(clock), MemoryActuator(), MemoryStore("swarm"), {"r1": RegionBounds(1, 2)}
    )
    await manager.step(token=3)
    with pytest.raises(StaleTokenError):
        await manager.step(token=2)


async def test_a_deposed_leader_elsewhere_cannot_overwrite_the_desired_count() -> None:
    clock = ManualClock()
    shared = MemoryStore("swarm")
    bounds = {"r1": RegionBounds(1, 4)}
    old = SwarmManager(registry(clock), MemoryActuator(), shared, bounds)
    new = SwarmManager(registry(clock), MemoryActuator(), shared, bounds)
    await old.set_desired("r1", 2, token=3)
    await new.set_desired("r1", 3, token=8)
    with pytest.raises(StaleTokenError):
        await old.set_desired("r1", 1, token=3)  # its own fence never saw 8: the store did
    assert await new.desired("r1") == Desired(3, 8)
