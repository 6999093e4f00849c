"""The node: collections, the one apply function, recovery, subscriptions."""

from ruvstream.engine.apply import Catalog, Outcome, apply_op
from ruvstream.engine.collection import Collection, Hit, SearchRequest
from ruvstream.engine.node import Node, WriteListener
from ruvstream.engine.subscriptions import Match, Subscription, SubscriptionHub

__all__ = [
    "Catalog",
    "Collection",
    "Hit",
    "Match",
    "Node",
    "Outcome",
    "SearchRequest",
    "Subscription",
    "SubscriptionHub",
    "WriteListener",
    "apply_op",
]
