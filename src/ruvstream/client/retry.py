"""The client's retry strategy: the one in ``ruvstream.core.retry``, under the client's name.

Kept so ``from ruvstream.client.retry import RetryPolicy`` (as docs/client.md
shows) goes on working; the strategy itself lives in core, shared with the
router and replication.
"""

from ruvstream.core.retry import Backoff, Retrier, RetryBudget, RetryPolicy

__all__ = ["Backoff", "Retrier", "RetryBudget", "RetryPolicy"]
