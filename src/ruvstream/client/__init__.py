"""ruvstream.client: pooled, retrying, caching, streaming clients for ruvstream nodes.

``AsyncClient`` holds the one protocol implementation; ``Client`` is its
blocking face. ``AsyncSession`` / ``Session`` multiplex requests and standing
queries over one WebSocket that reconnects by itself. The retry strategy is
``ruvstream.core.retry``, pure and shared with the router and replication.
"""

from ruvstream.core.retry import Backoff, Retrier, RetryBudget, RetryPolicy
from ruvstream.errors import (
    BadRequestError,
    ConflictError,
    NotFoundError,
    PayloadTooLargeError,
    RateLimitedError,
    RequestTimeoutError,
    RuvstreamError,
    UnavailableError,
)

from ._transport import Timeouts
from .async_client import AsyncClient
from .cache import CacheStats, ResultCache
from .errors import ClientTimeoutError, ConnectError, SessionClosedError, TransportError
from .models import (
    BulkResult,
    CollectionInfo,
    Hit,
    Match,
    Query,
    Record,
    SearchResult,
    WriteResult,
)
from .pool import pooled_http_client
from .session import AsyncSession
from .subscription import Subscription
from .sync_client import Client, Session, SyncSubscription

__all__ = [
    "AsyncClient",
    "AsyncSession",
    "Backoff",
    "BadRequestError",
    "BulkResult",
    "CacheStats",
    "Client",
    "ClientTimeoutError",
    "CollectionInfo",
    "ConflictError",
    "ConnectError",
    "Hit",
    "Match",
    "NotFoundError",
    "PayloadTooLargeError",
    "Query",
    "RateLimitedError",
    "Record",
    "RequestTimeoutError",
    "ResultCache",
    "Retrier",
    "RetryBudget",
    "RetryPolicy",
    "RuvstreamError",
    "SearchResult",
    "Session",
    "SessionClosedError",
    "Subscription",
    "SyncSubscription",
    "Timeouts",
    "TransportError",
    "UnavailableError",
    "WriteResult",
    "pooled_http_client",
]
