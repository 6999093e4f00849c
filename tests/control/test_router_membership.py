"""The router follows the registry: joins become routable, draining nodes get no new
requests and lose their relayed sessions, leavers go; static nodes stay; old tokens are ignored."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace

import pytest

from ruvstream.control.follow import MembershipEvent
from ruvstream.control.membership import NodeState
from ruvstream.core.clock import ManualClock
from ruvstream.routing import NodeSpec, Router, RouterSettings
from ruvstream.routing.membership import RegistryFollower

from .helpers import member, registry


class FakeSocket:
    def __init__(self) -> None:
        self.closed_with: int | None = None

    async def close(self, code: int = 1000, reason: str = "") -> None:
        self.closed_with = code


@pytest.fixture
async def router() -> AsyncIterator[Router]:
    settings = RouterSettings(nodes=(NodeSpec("r1", "http://static:1", "static-1"),))
    made = Router(settings)
    try:
        yield made
    finally:
        await made.close()


def follower_for(router: Router) -> RegistryFollower:
    return RegistryFollower(router, registry(ManualClock()))


async def test_a_joining_node_is_routable_and_a_leaving_one_is_gone(router: Router) -> None:
    follower = follower_for(router)
    await follower.apply(MembershipEvent("join", member("n1", "r2")))
    node = router.table.get("n1")
    assert node is not None and node.url == "http://n1" and router.table.routable(node)
    assert router.table.choose("r2").name == "n1"  # type: ignore[union-attr]
    await follower.apply(
        MembershipEvent("leave", replace(member("n1", "r2"), state=NodeState.GONE))
    )
    assert router.table.get("n1") is None and "r2" not in router.table.regions


async def test_a_starting_node_waits_until_it_serves(router: Router) -> None:
    follower = follower_for(router)
    await follower.apply(MembershipEvent("join", member("n1", state=NodeState.STARTING)))
    assert router.table.get("n1") is None
    await follower.apply(MembershipEvent("update", member("n1")))
    assert router.table.get("n1") is not None


async def test_a_draining_node_gets_nothing_new_and_its_sessions_move(router: Router) -> None:
    follower = follower_for(router)
    await follower.apply(MembershipEvent("join", member("n1", "r1")))
    sockets = [FakeSocket(), FakeSocket()]
    for sock in sockets:
        router.track_relay("n1", sock)
    drained = replace(member("n1", "r1"), state=NodeState.DRAINING, token=4)
    await follower.apply(MembershipEvent("update", drained))
    node = router.table.get("n1")
    assert node is not None and not router.table.routable(node)
    assert [s.closed_with for s in sockets] == [1012, 1012]
    picks = {router.table.choose("r1").name for _ in range(10)}  # type: ignore[union-attr]
    assert picks == {"static-1"}


async def test_a_drain_from_an_older_leader_is_ignored(router: Router) -> None:
    follower = follower_for(router)
    await follower.apply(MembershipEvent("join", member("a")))
    await follower.apply(MembershipEvent("join", member("b")))
    await follower.apply(
        MembershipEvent("update", replace(member("a"), state=NodeState.DRAINING, token=9))
    )
    stale = replace(member("b"), state=NodeState.DRAINING, token=5)
    await follower.apply(MembershipEvent("update", stale))
    node = router.table.get("b")
    assert node is not None and router.table.routable(node) and follower.fence.refused == 1


async def test_static_nodes_are_never_touched_by_the_registry(router: Router) -> None:
    follower = follower_for(router)
    await follower.apply(
        MembershipEvent("leave", replace(member("static-1"), state=NodeState.GONE))
    )
    await follower.apply(MembershipEvent("join", member("control-1", "r1")))
    assert router.table.get("static-1") is not None
    control = replace(member("c2"), role="control")
    await follower.apply(MembershipEvent("join", control))
    assert router.table.get("c2") is None
