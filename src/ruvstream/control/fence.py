"""Fencing tokens: refuse an action stamped by a leader older than the newest one seen.

A leader's token is the KV revision at which it won its lease (see
``election``); revisions only grow, so a later leader always holds a larger
token. Every action the leader takes carries its token, and whoever carries
an action out (an actuator, the router, an agent) passes it through its own
``Fence``. The fence remembers the largest token it has admitted and refuses
anything smaller, so a deposed leader that wakes up late (a paused process,
a slow network) cannot act after its successor did.

Invariant: ``newest`` never decreases; ``admit(t)`` is True exactly when
``t >= newest`` at the time of the call.
"""

from __future__ import annotations

from ruvstream.errors import ConflictError

__all__ = ["Fence", "StaleTokenError"]


class StaleTokenError(ConflictError):
    """An action carried a fencing token older than one already seen."""

    code = "stale_token"


class Fence:
    def __init__(self, newest: int = 0) -> None:
        self.newest = newest
        self.refused = 0

    def admit(self, token: int) -> bool:
        """Accept ``token`` (raising the floor to it) unless an older leader sent it."""
        if token < self.newest:
            self.refused += 1
            return False
        self.newest = token
        return True

    def check(self, token: int, action: str = "action") -> None:
        """``admit`` or raise ``StaleTokenError`` naming the action and both tokens."""
        if not self.admit(token):
            raise StaleTokenError(
                f"{action} refused: token {token} is older than {self.newest}",
                token=token,
                newest=self.newest,
            )
