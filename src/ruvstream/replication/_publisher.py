"""Publishing a node's own writes from its WAL, behind a persisted cursor.

The WAL is the outbox. A pump follows it (``WalTail``) from the publish
cursor on, takes the local ops among its entries (an op this node stamped:
its origin is this region and its sequence is the entry's own; ops applied
from elsewhere are never re-published) and stores them on the bus in
batches, in WAL order, retrying a failed batch whole with the core retry
schedule (backoff with full jitter). Retries reuse each op's message id, so
a publish that landed but timed out is stored once.

Invariants:

- The cursor moves only after the bus acknowledged every local op at or
  below it; it is saved to the data dir (atomically, at most once every
  ``CURSOR_SAVE_SECONDS``, and no later than that after the pump goes idle).
  After a kill -9 the next run republishes from the saved cursor: an op the
  bus already holds is a duplicate, a no-op under last-writer-wins.
- The WAL keeps every entry after the cursor (``hold_wal``), so a checkpoint
  never prunes an op that is not on the bus.
- The pump reads only through ``durable_through``: nothing is published
  before it is durable and applied here.
- Writes never wait for the bus: the write listener only counts the op and
  wakes the pump. ``backlog`` (ops acknowledged here and not yet on the bus)
  and the age of the oldest of them are what /health reports.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
from collections.abc import Sequence

from ruvstream.core.clock import Clock, SystemClock
from ruvstream.core.hlc import physical_ms
from ruvstream.core.records import OpRecord, decode_op
from ruvstream.core.retry import Backoff, RetrySchedule
from ruvstream.engine.ports import ReplicationPort
from ruvstream.replication._bus import Bus
from ruvstream.replication._cursor import PublishCursor
from ruvstream.replication._metrics import ReplicationMetrics
from ruvstream.storage.wal import WalEntry

__all__ = ["CURSOR_FILE", "HOLD_NAME", "Publisher", "local_ops"]

log = logging.getLogger(__name__)

OUTBOX_BACKOFF = Backoff(base=0.05, cap=2.0)
CURSOR_FILE = "replication-publish-cursor.json"
HOLD_NAME = "replication-publisher"
CURSOR_SAVE_SECONDS = 0.2
IDLE_POLL_SECONDS = 1.0
INLINE_READ_ENTRIES = 64
"""At most this many new WAL entries are read on the event loop; more go to a thread."""
_UNCOUNTED = math.inf


def local_ops(entries: Sequence[WalEntry], region: str) -> list[OpRecord]:
    """The ops among ``entries`` this node stamped itself (see the module doc)."""
    ops = []
    for entry in entries:
        op = decode_op(entry.payload)
        if op.origin == region and op.seq == entry.seq:
            ops.append(op)
    return ops


class Publisher:
    def __init__(
        self,
        bus: Bus,
        node: ReplicationPort,
        metrics: ReplicationMetrics,
        *,
        timeout: float = 2.0,
        batch: int = 256,
        backoff: Backoff = OUTBOX_BACKOFF,
        clock: Clock | None = None,
    ) -> None:
        self._bus = bus
        self._node = node
        self._metrics = metrics
        self._timeout = timeout
        self._batch = batch
        self._retries = RetrySchedule(backoff)
        self._clock = clock or SystemClock()
        self._file = PublishCursor(node.state_path(CURSOR_FILE), bus.stream)
        self._wake = asyncio.Event()
        self._idle = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._tail = node.wal_tail(0)
        self._counted_through: float = _UNCOUNTED
        self._backlog = 0
        self._oldest_ms: int | None = None
        self._saved = 0
        self._saved_at = 0.0
        self.cursor = 0
        """Every local op at or below this WAL sequence is on the bus."""
        self.failing = False
        """The last publish failed (and nothing has succeeded since)."""
        self.published_seq = 0
        """Bus sequence of this node's newest stored op (advertised in heartbeats)."""
        metrics.outbox.set_function(lambda: self._backlog)
        metrics.backlog_age.set_function(self.oldest_age)

    async def start(self) -> None:
        """Load the cursor, count what the WAL holds after it, and start the pump."""
        stored = await asyncio.to_thread(self._file.load)
        self._node.add_write_listener(self)
        # Synchronous from here to the count's bound: every op at or below it has
        # been applied (and so was not heard), every op above it will be heard.
        durable = self._node.durable_through()
        self._counted_through = durable
        if stored > durable:
            log.warning(
                "publish cursor %d is past the WAL's end %d (the WAL lost its tail); "
                "publishing from %d",
                stored,
                durable,
                durable,
            )
            stored = durable
        self.cursor = self._saved = stored
        self._node.hold_wal(HOLD_NAME, lambda: self.cursor + 1)
        self._tail = self._node.wal_tail(stored)
        counted, oldest = await asyncio.to_thread(self._count, stored, durable)
        self._backlog += counted
        if counted:
            self._oldest_ms = oldest
        if self._backlog:
            log.info("%d local ops after publish cursor %d wait for the bus", counted, stored)
        self._task = asyncio.get_running_loop().create_task(self._pump())

    def _count(self, after: int, through: int) -> tuple[int, int | None]:
        tail, counted, oldest = self._node.wal_tail(after), 0, None
        while entries := tail.read(4096, through):
            ops = local_ops(entries, self._node.region)
            if ops and oldest is None:
                oldest = physical_ms(ops[0].hlc)
            counted += len(ops)
        return counted, oldest

    @property
    def backlog(self) -> int:
        """Local ops acknowledged to their clients and not yet on the bus."""
        return self._backlog

    def oldest_age(self) -> float:
        """Seconds since the oldest unpublished local op was written (0 when none)."""
        if not self._backlog or self._oldest_ms is None:
            return 0.0
        return max(0.0, self._clock.now() - self._oldest_ms / 1000.0)

    def __call__(self, op: OpRecord) -> None:
        """The node's write listener: never blocks, the write is already durable."""
        if op.seq > self._counted_through:
            if not self._backlog:
                self._oldest_ms = physical_ms(op.hlc)
            self._backlog += 1
        self._wake.set()

    # -- the pump ------------------------------------------------------------------
    async def _read(self) -> tuple[list[OpRecord], int]:
        through = self._node.durable_through()

        def read() -> tuple[list[OpRecord], int]:
            entries = self._tail.read(self._batch, through)
            return local_ops(entries, self._node.region), self._tail.position

        if through - self._tail.position <= INLINE_READ_ENTRIES:
            # A few frames just written (in the page cache): cheaper than a trip to a
            # thread, which can wait a whole GIL switch interval on a busy loop.
            return read()
        return await asyncio.to_thread(read)

    async def _pump(self) -> None:
        while True:
            self._wake.clear()
            before = self._tail.position
            ops, position = await self._read()
            if ops:
                self._oldest_ms = physical_ms(ops[0].hlc)
                await self._publish_until_stored(ops)
            if position > self.cursor:
                self.cursor = position
            await self._maybe_save()
            if position > before:
                continue
            self._idle.set()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self._idle_wait())
            self._idle.clear()

    async def _publish_until_stored(self, ops: list[OpRecord]) -> None:
        while True:
            try:
                if not self._bus.reachable():
                    raise ConnectionError("the bus is not connected")
                seqs = await asyncio.wait_for(
                    self._bus.publish_batch(ops, node=self._node.node_id), self._timeout
                )
            except Exception as exc:
                self.failing = True
                self._metrics.publish_errors.inc()
                delay = self._retries.failed()
                log.warning(
                    "publishing %d local ops failed (%s); %d wait, retrying in %.2fs",
                    len(ops),
                    exc or type(exc).__name__,
                    self._backlog,
                    delay,
                )
                await asyncio.sleep(delay)
                continue
            self._retries.succeeded()
            self.failing = False
            self.published_seq = max([self.published_seq, *seqs])
            self._metrics.published.inc(len(ops))
            self._metrics.publish_batch.observe(len(ops))
            self._backlog = max(0, self._backlog - len(ops))
            return

    def _save_due_in(self) -> float:
        return self._saved_at + CURSOR_SAVE_SECONDS - self._clock.monotonic()

    async def _maybe_save(self) -> None:
        # At most one save (two fsyncs) per CURSOR_SAVE_SECONDS, busy or not: at a
        # trickle of writes the pump goes idle after each, and saving every time cost
        # more than publishing. A cursor left behind only republishes duplicates.
        if self.cursor != self._saved and self._save_due_in() <= 0:
            await self._save()

    def _idle_wait(self) -> float:
        """Until the next write wakes the pump, or until an unsaved cursor is due."""
        if self.cursor == self._saved:
            return IDLE_POLL_SECONDS
        return min(max(self._save_due_in(), 0.0), IDLE_POLL_SECONDS)

    async def _save(self) -> None:
        cursor = self.cursor
        await asyncio.to_thread(self._file.store, cursor)
        self._saved, self._saved_at = cursor, self._clock.monotonic()

    async def close(self, grace: float = 2.0) -> None:
        """Give the backlog ``grace`` seconds to reach the bus, save the cursor, stop."""
        if self._task is None:
            return
        self._idle.clear()  # set again only by a read that found nothing new
        self._wake.set()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._idle.wait(), grace)
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task
        self._task = None
        if self.cursor != self._saved:
            await self._save()
        if self._backlog:
            log.warning(
                "%d local ops not yet published at shutdown; the next start publishes them "
                "from the WAL",
                self._backlog,
            )
