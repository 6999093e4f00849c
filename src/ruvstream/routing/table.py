"""The routing table: which node answers, nearest healthy region first.

Region order comes from the shared geography (nearest RTT from the client's
region first). A region is *preferred* while it has a routable node and room:
not every routable node reports ``overloaded`` and its in-flight utilisation
is under ``spill_at``. Choice runs two passes: the nearest preferred region;
failing that, the nearest region with any routable node (a full region is
better than no answer). Inside a region the region's strategy picks among the
routable nodes, the non-overloaded ones if there are any.

Invariant: a node that is down (failed probe), whose breaker refuses calls,
that is ejected, or that is draining (the control plane's registry says so)
is never returned, except as a half-open probe which its breaker itself
admits. Nodes may join and leave while the router runs (``add``/``remove``,
driven by ``routing.membership``); names stay unique.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from ruvstream.geo import rank_by_rtt

from .node import Node
from .outlier import OutlierDetector
from .strategies import Strategy, make_strategy

__all__ = ["RoutingTable"]


class RoutingTable:
    def __init__(
        self,
        nodes: Sequence[Node],
        strategy: str,
        outliers: OutlierDetector,
        spill_at: float = 0.85,
    ) -> None:
        names = [n.name for n in nodes]
        if len(set(names)) != len(names):
            raise ValueError("node names must be unique")
        self.nodes: list[Node] = []
        self.outliers = outliers
        self.spill_at = spill_at
        self.strategy_name = strategy
        self.regions: dict[str, list[Node]] = {}
        self.draining: set[str] = set()
        self._strategies: dict[str, Strategy] = {}
        self._orders: dict[str, list[str]] = {}
        """``region_order`` per client region, until a region comes or goes."""
        for node in nodes:
            self.add(node)

    def add(self, node: Node) -> None:
        """Route to ``node`` from now on (its name must be new)."""
        if self.get(node.name) is not None:
            raise ValueError(f"node {node.name!r} is already in the table")
        self.nodes.append(node)
        if node.region not in self.regions:
            self._orders.clear()
        self.regions.setdefault(node.region, []).append(node)
        self.outliers.add(node.name)
        if node.region not in self._strategies:
            self._strategies[node.region] = make_strategy(self.strategy_name)

    def remove(self, name: str) -> Node | None:
        """Stop routing to ``name``; an emptied region keeps its strategy (it may come back)."""
        node = self.get(name)
        if node is None:
            return None
        self.nodes.remove(node)
        self.regions[node.region].remove(node)
        if not self.regions[node.region]:
            del self.regions[node.region]
            self._orders.clear()
        self.draining.discard(name)
        return node

    def get(self, name: str) -> Node | None:
        return next((n for n in self.nodes if n.name == name), None)

    def routable(self, node: Node) -> bool:
        return (
            node.healthy
            and node.name not in self.draining
            and node.breaker.available()
            and not self.outliers.is_ejected(node.name)
        )

    def region_order(self, client_region: str) -> list[str]:
        return list(self._region_order(client_region))

    def _region_order(self, client_region: str) -> list[str]:
        """The cached order itself: not to be changed by the caller."""
        order = self._orders.get(client_region)
        if order is None:
            order = self._orders[client_region] = rank_by_rtt(client_region, self.regions)
        return order

    def has_room(self, region: str, exclude: Iterable[str] = ()) -> bool:
        return self._room(self._candidates(region, set(exclude)))

    def _room(self, nodes: list[Node]) -> bool:
        """Not every node overloaded, and in-flight work under ``spill_at`` of capacity
        (one loop: this runs for every request)."""
        calm = False
        capacity = inflight = 0
        for n in nodes:
            calm = calm or not n.report.overloaded
            capacity += n.capacity
            inflight += n.inflight
        return calm and inflight < self.spill_at * capacity

    def choose(self, client_region: str, exclude: Iterable[str] = ()) -> Node | None:
        """The nearest region with room, else the nearest with any routable node (one look
        at each region's nodes serves both passes)."""
        excluded = set(exclude)
        full: tuple[str, list[Node]] | None = None
        for region in self._region_order(client_region):
            nodes = self._candidates(region, excluded)
            if self._room(nodes):
                return self._pick_among(region, nodes)
            if nodes and full is None:
                full = (region, nodes)
        return self._pick_among(*full) if full is not None else None

    def pressure(self) -> float:
        """Share of routable nodes that report overload (1.0 when none is routable)."""
        live = [n for n in self.nodes if self.routable(n)]
        if not live:
            return 1.0
        return sum(1 for n in live if n.report.overloaded) / len(live)

    def _candidates(self, region: str, excluded: set[str]) -> list[Node]:
        return [
            n for n in self.regions.get(region, []) if n.name not in excluded and self.routable(n)
        ]

    def _pick_among(self, region: str, nodes: list[Node]) -> Node:
        calm = [n for n in nodes if not n.report.overloaded]
        return self._strategies[region].pick(calm or nodes)
