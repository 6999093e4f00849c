"""Leader election for the control loop: a lease in one KV key, won by compare-and-set.

The lease key holds ``{"holder", "lease", "since", "token"}``. Winning is a
``create`` (no leader) or an ``update`` on the revision a candidate watched
go stale; both are compare-and-set on the Raft-backed store, so of racing
candidates exactly one wins. The winner's *token* is the revision of that
winning write: revisions only grow, so every later leader's token is larger.

Timing, all on each process's own monotonic clock (no wall-clock agreement
is needed):

* the leader renews every ``lease / 3`` and believes it leads only while
  its last successful renewal *started* less than ``lease * trust`` ago
  (``trust`` < 1), so it stops acting before anyone may take over;
* a candidate takes over only after it has seen the same revision for a
  whole ``lease`` (the leader wrote that revision after it started the
  renewal, so the candidate's wait ends after the leader's belief ends);
* the bucket's TTL (twice the lease) removes a dead leader's key anyway.

Hence no two members act as leader at once (given clocks that run at about
the same rate), and a dead leader is replaced within about one lease plus
one campaign interval of its last renewal.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from ruvstream.core.clock import Clock, SystemClock

from .store import CompareAndSetError, CoordinationStore, Entry

__all__ = ["LEADER_KEY", "Election", "Leadership", "read_leader"]

log = logging.getLogger(__name__)

LEADER_KEY = "leader"


@dataclass(frozen=True, slots=True)
class Leadership:
    """Who leads: ``token`` fences every action taken in this term."""

    holder: str
    token: int
    since: float
    lease: float


def _decode(entry: Entry) -> Leadership:
    body = json.loads(entry.value)
    return Leadership(
        holder=str(body["holder"]),
        token=int(body.get("token") or entry.revision),
        since=float(body["since"]),
        lease=float(body["lease"]),
    )


async def read_leader(store: CoordinationStore) -> Leadership | None:
    """The current lease holder as the store has it (None when nobody holds it)."""
    entry = await store.get(LEADER_KEY)
    return None if entry is None else _decode(entry)


class Election:
    """One member's campaign. Call ``step`` on a timer (``run`` does); read ``leadership``."""

    def __init__(
        self,
        store: CoordinationStore,
        member: str,
        *,
        lease: float = 5.0,
        trust: float = 0.8,
        clock: Clock | None = None,
    ) -> None:
        if lease <= 0 or not 0 < trust < 1:
            raise ValueError("need lease > 0 and 0 < trust < 1")
        self.store = store
        self.member = member
        self.lease = lease
        self.trust = trust
        self.clock = clock or SystemClock()
        self._term: Leadership | None = None
        self._revision = 0
        self._renew_started = 0.0
        self._watched: tuple[int, float] | None = None
        self.terms = 0

    @property
    def interval(self) -> float:
        return self.lease / 3

    @property
    def leadership(self) -> Leadership | None:
        """This member's term while its lease is trusted to be fresh, else None."""
        if self._term is None:
            return None
        if self.clock.monotonic() - self._renew_started >= self.lease * self.trust:
            return None
        return self._term

    def _value(self, since: float, token: int | None) -> bytes:
        body = {"holder": self.member, "lease": self.lease, "since": since, "token": token}
        return json.dumps(body).encode()

    async def step(self) -> None:
        """One round: renew if leading, else watch the holder and take over a stale lease."""
        if self._term is not None:
            await self._renew(self._term)
            return
        entry = await self.store.get(LEADER_KEY)
        now = self.clock.monotonic()
        if entry is None:
            await self._win(lambda value: self.store.create(LEADER_KEY, value), now)
            return
        if self._watched is None or self._watched[0] != entry.revision:
            self._watched = (entry.revision, now)
            return
        if now - self._watched[1] >= self.lease:
            stale = entry.revision
            await self._win(lambda value: self.store.update(LEADER_KEY, value, stale), now)

    async def _win(self, write: Callable[[bytes], Awaitable[int]], started: float) -> None:
        since = self.clock.now()
        try:
            revision = await write(self._value(since, None))
        except CompareAndSetError:
            self._watched = None
            return
        self._term = Leadership(self.member, revision, since, self.lease)
        self._revision = revision
        self._renew_started = started
        self.terms += 1
        log.info("%s leads with token %d", self.member, revision)
        # Put the token in the value, so readers see it without the first revision.
        await self._renew(self._term)

    async def _renew(self, term: Leadership) -> None:
        started = self.clock.monotonic()
        try:
            self._revision = await self.store.update(
                LEADER_KEY, self._value(term.since, term.token), self._revision
            )
        except CompareAndSetError:
            self._step_down("lost the lease key")
            return
        except Exception:  # a lost connection: keep the term until the lease runs out
            log.warning("%s could not renew its lease", self.member, exc_info=True)
            if self.leadership is None:
                self._step_down("could not renew in time")
            return
        self._renew_started = started

    def _step_down(self, why: str) -> None:
        if self._term is not None:
            log.warning("%s steps down (token %d): %s", self.member, self._term.token, why)
        self._term = None
        self._watched = None

    async def resign(self) -> None:
        """Give the lease up now (a clean shutdown), so a successor need not wait."""
        term, self._term = self._term, None
        if term is not None:
            with contextlib.suppress(Exception):
                await self.store.delete(LEADER_KEY, self._revision)

    async def run(self) -> None:
        """Campaign (or renew) every ``interval`` until cancelled."""
        while True:
            try:
                await self.step()
            except Exception:
                log.warning("election round failed", exc_info=True)
            await asyncio.sleep(self.interval)
