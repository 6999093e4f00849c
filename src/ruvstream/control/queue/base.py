"""The work queue: durable named queues where each message goes to one taker at a time.

Invariants every backend keeps (``tests/control/test_queue_contract.py``):

* a message put on a queue is held until a taker ``ack``s it; each pull hands
  a message to one taker only;
* a message taken and neither acked nor nakked within ``ack_wait`` seconds
  is handed out again (its ``deliveries`` count grows); ``nak(delay)`` hands
  it out again after ``delay``;
* a ``msg_id`` seen before on the same queue is not stored twice;
* ``purge`` drops a queue's held messages; ``bury`` keeps a message on the
  dead-letter list, which ``buried`` reads in order without consuming it.

Queue names are dot-separated tokens of ``A-Z a-z 0-9 _ -``.
"""

from __future__ import annotations

import re
from typing import Protocol

__all__ = ["Job", "WorkQueue", "check_queue", "queue_token"]

_QUEUE = re.compile(r"^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$")
_TOKEN = re.compile(r"^[A-Za-z0-9_-]+$")


def check_queue(name: str) -> str:
    if not _QUEUE.match(name):
        raise ValueError(f"invalid queue name {name!r}")
    return name


def queue_token(text: str) -> str:
    """``text`` as one queue-name token (hex-escaped when it holds other characters)."""
    return text if _TOKEN.match(text) else "x" + text.encode().hex()


class Job(Protocol):
    @property
    def data(self) -> bytes: ...

    @property
    def deliveries(self) -> int: ...

    async def ack(self) -> None: ...

    async def nak(self, delay: float = 0.0) -> None: ...


class WorkQueue(Protocol):
    async def put(self, queue: str, data: bytes, *, msg_id: str | None = None) -> None: ...

    async def pull(self, queue: str, *, batch: int = 16, wait: float = 1.0) -> list[Job]: ...

    async def purge(self, queue: str) -> None: ...

    async def bury(self, data: bytes) -> None: ...

    async def buried(self) -> list[bytes]: ...

    async def close(self) -> None: ...
