"""ruvstream.routing: the region-aware router in front of the nodes.

Pure policy classes (circuit breaker, GCRA rate limits, outlier ejection,
node-choice strategies, tiers and admission, the routing table) take an
injected clock and do no I/O; ``RouterApp`` is the ASGI reverse proxy that
uses them, and ``router`` its command line.
"""

from ruvstream.core.breaker import BreakerConfig, BreakerState, CircuitBreaker

from .app import RouterApp
from .config import NodeSpec, RouterSettings, parse_node
from .locate import ClientLocator
from .node import HealthReport, Node
from .outlier import OutlierConfig, OutlierDetector
from .ratelimit import Decision, Limit, MemoryRateLimiter, RateLimiter, gcra
from .redis_limit import FallbackRateLimiter, RedisRateLimiter
from .router import Caller, Router, UnauthorizedError
from .server import running_router, serve
from .strategies import STRATEGIES, Strategy, adaptive_score, make_strategy
from .table import RoutingTable
from .tiers import DEFAULT_POLICIES, Admission, ApiKey, KeyRing, Tier, TierPolicy

__all__ = [
    "DEFAULT_POLICIES",
    "STRATEGIES",
    "Admission",
    "ApiKey",
    "BreakerConfig",
    "BreakerState",
    "Caller",
    "CircuitBreaker",
    "ClientLocator",
    "Decision",
    "FallbackRateLimiter",
    "HealthReport",
    "KeyRing",
    "Limit",
    "MemoryRateLimiter",
    "Node",
    "NodeSpec",
    "OutlierConfig",
    "OutlierDetector",
    "RateLimiter",
    "RedisRateLimiter",
    "Router",
    "RouterApp",
    "RouterSettings",
    "RoutingTable",
    "Strategy",
    "Tier",
    "TierPolicy",
    "UnauthorizedError",
    "adaptive_score",
    "gcra",
    "make_strategy",
    "parse_node",
    "running_router",
    "serve",
]
