"""Subscription affinity: a standing query lives on the node that created it.

``POST /v1/collections/{c}/subscriptions`` answers ``{"id": ...}`` from one
node, and only that node can stream the subscription's events or delete it.
The router remembers ``id -> node`` from those answers (a bounded LRU: old
entries fall out first) and sends ``/v1/subscriptions/{id}...`` back to the
same node while it is routable. When that node is gone, so is the
subscription, and any other node answers 404 ``subscription_not_found``,
which is the truth.
"""

from __future__ import annotations

import re
from collections import OrderedDict

import orjson

__all__ = ["SubscriptionAffinity"]

_CREATE = re.compile(r"^/v1/collections/[^/]+/subscriptions$")
_USE = re.compile(r"^/v1/subscriptions/([^/]+)")


class SubscriptionAffinity:
    def __init__(self, capacity: int = 100_000) -> None:
        self._nodes: OrderedDict[str, str] = OrderedDict()
        self._capacity = capacity

    @staticmethod
    def creates(method: str, path: str) -> bool:
        return method == "POST" and _CREATE.match(path) is not None

    def remember(self, body: bytes, node: str) -> None:
        """Record the node behind a creation answer (ignored unless it names an id)."""
        try:
            sub = orjson.loads(body).get("id")
        except (orjson.JSONDecodeError, AttributeError):
            return
        if isinstance(sub, str):
            self._nodes[sub] = node
            self._nodes.move_to_end(sub)
            while len(self._nodes) > self._capacity:
                self._nodes.popitem(last=False)

    def node_for(self, path: str) -> str | None:
        found = _USE.match(path)
        return self._nodes.get(found.group(1)) if found else None
