"""Cross-region replication: a bus of op records, and the node's side of it.

Every acknowledged local write is published on the bus; every node applies
the ops of all other nodes through the same apply function as WAL replay;
last-writer-wins on (hlc, origin) makes replicas converge whatever the order
or duplication of deliveries. Two buses pass one contract suite: the embedded
in-process log (default, one process) and NATS JetStream (the real one).
"""

from ruvstream.replication._bus import Bus, Consumer, HeartbeatHandler, Unsubscribe
from ruvstream.replication._factory import BUSES, open_bus, start_replication
from ruvstream.replication._wire import Delivery, Heartbeat
from ruvstream.replication.bootstrap import bootstrap_from_peer, install_snapshot
from ruvstream.replication.embedded import EmbeddedBus
from ruvstream.replication.jetstream import JetStreamBus
from ruvstream.replication.lag import LagTracker
from ruvstream.replication.replicator import EXTRAS_KEY, Replicator

__all__ = [
    "BUSES",
    "EXTRAS_KEY",
    "Bus",
    "Consumer",
    "Delivery",
    "EmbeddedBus",
    "Heartbeat",
    "HeartbeatHandler",
    "JetStreamBus",
    "LagTracker",
    "Replicator",
    "Unsubscribe",
    "bootstrap_from_peer",
    "install_snapshot",
    "open_bus",
    "start_replication",
]
