"""The membership registry, the events a follower sees, and figures read from a registry."""

from __future__ import annotations

from dataclasses import replace

from ruvstream.control.figures import Figures, FiguresReader, quantile
from ruvstream.control.follow import MembershipView
from ruvstream.control.membership import NodeState
from ruvstream.control.store import Change
from ruvstream.core.clock import ManualClock
from ruvstream.telemetry import NodeMetrics

from .helpers import member, registry


async def test_join_heartbeat_and_members() -> None:
    clock = ManualClock()
    reg = registry(clock)
    joined = await reg.join(member("n1", state=NodeState.STARTING))
    assert joined.updated == clock.now() and joined.lapse == 10.0
    clock.advance(2.0)
    beaten = await reg.heartbeat(replace(joined, state=NodeState.SERVING), Figures(qps=5.0))
    assert beaten.state is NodeState.SERVING and beaten.figures.qps == 5.0
    assert beaten.updated == clock.now()
    (listed,) = await reg.members()
    assert (listed.id, listed.region, listed.address) == ("n1", "r1", "http://n1")


async def test_draining_set_by_the_leader_survives_the_nodes_heartbeats() -> None:
    clock = ManualClock()
    reg = registry(clock)
    template = member("n1")
    await reg.join(template)
    drained = await reg.set_state("n1", NodeState.DRAINING, token=12)
    assert drained is not None and drained.token == 12
    after = await reg.heartbeat(template, Figures())
    assert after.state is NodeState.DRAINING and after.token == 12
    assert await reg.set_state("n1", NodeState.SERVING) is None  # never back
    assert (await reg.get("n1")).state is NodeState.DRAINING  # type: ignore[union-attr]


async def test_a_lapsed_heartbeat_means_gone_and_a_heartbeat_rejoins() -> None:
    clock = ManualClock()
    reg = registry(clock, lapse=10.0)
    await reg.join(member("n1"))
    clock.advance(10.5)
    assert await reg.members() == []  # the bucket TTL removed it
    back = await reg.heartbeat(member("n1"), Figures())
    assert back.state is NodeState.SERVING
    assert [m.id for m in await reg.members()] == ["n1"]


def test_a_reader_judges_an_old_entry_gone_before_the_ttl_removes_it() -> None:
    old = member("n1", updated=100.0)
    assert old.seen_at(105.0).state is NodeState.SERVING
    assert old.seen_at(110.5).state is NodeState.GONE


def _change(m: object, revision: int) -> Change:
    from ruvstream.control.membership import Member

    assert isinstance(m, Member)
    return Change(m.id, m.encode(), revision)


def test_the_view_turns_changes_into_join_update_leave_once_each() -> None:
    view = MembershipView()
    n1 = member("n1", updated=0.0)
    assert [e.kind for e in view.apply(_change(n1, 1), now=1.0)] == ["join"]
    draining = replace(n1, state=NodeState.DRAINING)
    (update,) = view.apply(_change(draining, 2), now=1.0)
    assert update.kind == "update" and update.member.state is NodeState.DRAINING
    (leave,) = view.apply(Change("n1", None, 3), now=1.0)
    assert leave.kind == "leave" and leave.member.state is NodeState.GONE
    assert view.apply(Change("n1", None, 4), now=1.0) == []
    view.apply(_change(member("n2", updated=0.0), 5), now=1.0)
    assert view.sweep(now=5.0) == []
    assert [(e.kind, e.member.id) for e in view.sweep(now=11.0)] == [("leave", "n2")]
    assert view.sweep(now=12.0) == []


def test_figures_come_from_the_nodes_registry_as_rates_and_percentiles() -> None:
    clock = ManualClock()
    metrics = NodeMetrics()
    metrics.attach(
        lambda: {
            "collections": {"docs": (1000, 4096)},
            "wal_bytes": 0,
            "wal_fsyncs": 0,
            "subscriptions": 3,
        }
    )
    reader = FiguresReader(metrics.registry, clock, memory_total=1e12)
    reader.read()
    for _ in range(90):
        metrics.observe_search("docs", 0.002)
    for _ in range(10):
        metrics.observe_search("docs", 0.2)
    metrics.open_connections["websocket"].inc(4)
    metrics.errors.labels("bad_request").inc(5)
    metrics.observe_http("/search", "POST", 200, 0.01)
    clock.advance(10.0)
    figures = reader.read()
    assert figures.qps == 10.0
    assert 1.0 <= figures.latency_ms["p50"] <= 2.5
    assert 100.0 <= figures.latency_ms["p99"] <= 250.0
    assert figures.connections["websocket"] == 4.0
    assert figures.streams["subscriptions"] == 3.0
    assert figures.index_vectors == {"docs": 1000.0} and figures.index_bytes == {"docs": 4096.0}
    assert figures.error_rate == 5.0
    assert figures.memory_bytes > 0 and figures.memory_percent > 0
    clock.advance(10.0)
    quiet = reader.read()
    assert quiet.qps == 0.0 and quiet.latency_ms["p99"] == 0.0
    assert Figures.from_json(figures.to_json()) == figures


def test_quantile_interpolates_inside_the_bucket() -> None:
    buckets = [(0.01, 50.0), (0.1, 100.0), (float("inf"), 100.0)]
    assert quantile(0.5, buckets) == 0.01
    assert abs(quantile(0.75, buckets) - 0.055) < 1e-9
    assert quantile(0.5, []) == 0.0
