"""The node: collections, the one apply function, recovery, subscriptions, ports."""

from ruvstream.engine.apply import Catalog, Outcome, apply_op
from ruvstream.engine.collection import Collection, Hit, SearchRequest
from ruvstream.engine.node import Node, WriteListener
from ruvstream.engine.ports import HealthReporter, ReplicationPort
from ruvstream.engine.subscriptions import Match, Subscription, SubscriptionHub

__all__ = [
    "Catalog",
    "Collection",
    "HealthReporter",
    "Hit",
    "Match",
    "Node",
    "Outcome",
    "ReplicationPort",
    "SearchRequest",
    "Subscription",
    "SubscriptionHub",
    "WriteListener",
    "apply_op",
]
