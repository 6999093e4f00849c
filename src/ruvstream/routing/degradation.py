"""The router's degradation level: what ``POST /admin/degradation`` puts in force.

The control plane's leader sends a plan (``DegradationPlan.to_body``; the
body and the answers are in ``control/scaling/http_port.py``). The router
makes real what it has a mechanism for:

- connection limits: each tier's ``max_connections`` (``tiers.TierPolicy``)
  becomes the cap it started with x ``connection_limit_factor`` (0 closes the
  tier to new requests); factors never compound, level ``none`` restores the
  start-up policies exactly;
- shedding: ``shed_share`` of a tier's new requests are refused with 503 and
  ``Retry-After``, spread evenly by a credit counter rather than a coin, so
  0.5 refuses every second request and 1.0 all of them;
- shed order: under pressure only the tiers of ``shed_order`` are shed, and
  each no later than the one before it (standard never before free).

The cache TTL multiplier, background deferral and disabled features are kept
and shown (``GET /admin/degradation``): the router holds no cache and runs no
background work of its own to apply them to.

Fencing: the plan with the highest ``(fencing_token, sequence)`` stays in
force; an older token is refused with 409 and ``highest_fencing_token``, an
older sequence under the same token is answered 200 as superseded.

``serve_admin`` is the one entry of every ``/admin/`` route, so an admin
guard wraps one function.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any

import orjson
from prometheus_client import Gauge
from starlette.types import Receive, Scope, Send

from ruvstream.control.fence import Fence, StaleTokenError
from ruvstream.control.scaling.degradation import DegradationLevel, DegradationPlan
from ruvstream.core.clock import Clock
from ruvstream.errors import (
    BadRequestError,
    InvalidJsonError,
    NotFoundError,
    PayloadTooLargeError,
    RuvstreamError,
    UnavailableError,
)

from .metrics import RouterMetrics
from .responses import send_error
from .tiers import Admission, Tier, TierPolicy

__all__ = ["ADMIN_PREFIX", "DEGRADATION_ROUTE", "Degradation", "serve_admin"]

ADMIN_PREFIX = "/admin/"
DEGRADATION_ROUTE = "/admin/degradation"
MAX_BODY = 64 * 1024
SHED_RETRY_AFTER = 2.0
"""Seconds a shed client waits: the leader's tick, the soonest a plan can change."""


class Degradation:
    """The plan in force and its effects on ``admission``; its gauge on the router's metrics.

    A request the plan sheds counts in ``ruvstream_router_rejected_total`` with
    reason ``degraded``.
    """

    def __init__(self, admission: Admission, metrics: RouterMetrics, clock: Clock) -> None:
        self.admission = admission
        self.metrics = metrics
        self.clock = clock
        self.base: dict[Tier, TierPolicy] = dict(admission.ring.policies)
        self.plan: DegradationPlan | None = None
        self.applied_at: float | None = None
        self.fence = Fence()
        self._credit = dict.fromkeys(Tier, 0.0)
        self.shed_counts = dict.fromkeys(Tier, 0)
        self.gauge = Gauge(
            "ruvstream_router_degradation_level",
            "Degradation level in force: 0 none, 1 minor, 2 major, 3 critical",
            registry=metrics.registry,
        )

    @property
    def level(self) -> DegradationLevel:
        return DegradationLevel.NONE if self.plan is None else self.plan.level

    def apply(self, plan: DegradationPlan) -> bool:
        """Put ``plan`` in force; False when a later one (same token) already is.

        Raises ``StaleTokenError`` (409) for a token older than the highest seen.
        """
        self.fence.check(plan.fencing_token, "degradation plan")
        cur = self.plan
        if cur is not None and (cur.fencing_token, cur.sequence) > (
            plan.fencing_token,
            plan.sequence,
        ):
            return False
        self.plan, self.applied_at = plan, self.clock.now()
        for tier in Tier:
            self.admission.set_policy(tier, self.effective(tier))
        self.gauge.set(int(plan.level))
        return True

    def effective(self, tier: Tier) -> TierPolicy:
        """The tier's policy under the plan: start-up caps x factor, shed order applied."""
        base, plan = self.base[tier], self.plan
        if plan is None or plan.level is DegradationLevel.NONE:
            return base
        factor = plan.actions.tier(tier.label).connection_limit_factor
        cap = base.max_connections
        if cap is not None:
            cap = max(0, math.floor(cap * factor + 1e-9))
        return dataclasses.replace(base, max_connections=cap, shed_at=self._shed_at(tier))

    def _shed_at(self, tier: Tier) -> float | None:
        assert self.plan is not None
        named = self.plan.actions.shed_order
        order = [t for t in sorted(Tier) if t.label in named]
        order.sort(key=lambda t: named.index(t.label))
        if tier not in order:
            return None
        shed_at: float | None = None
        for earlier in order[: order.index(tier) + 1]:
            own = self.base[earlier].shed_at
            if own is not None:
                shed_at = own if shed_at is None else max(shed_at, own)
        return shed_at

    def check(self, tier: Tier) -> None:
        """Raise the 503 for a request the plan sheds; count it."""
        plan = self.plan
        if plan is None:
            return
        share = plan.actions.tier(tier.label).shed_share
        if share <= 0:
            return
        self._credit[tier] += min(1.0, share)
        if self._credit[tier] < 1.0 - 1e-9:
            return
        self._credit[tier] -= 1.0
        self.shed_counts[tier] += 1
        self.metrics.rejected.labels("degraded", tier.label).inc()
        raise UnavailableError(
            f"degraded ({plan.level.label}): part of {tier.label} traffic is shed",
            retry_after=SHED_RETRY_AFTER,
            tier=tier.label,
            level=plan.level.label,
        )

    def state(self) -> dict[str, Any]:
        """What ``GET /admin/degradation`` answers."""
        plan = self.plan
        body: dict[str, Any] = {
            "level": self.level.label,
            "highest_fencing_token": self.fence.newest,
        }
        if plan is not None:
            body.update(plan.to_body())
            body["applied_at"] = self.applied_at
        body["effective"] = {
            tier.label: {
                "max_connections": self.admission.policy(tier).max_connections,
                "shed_at": self.admission.policy(tier).shed_at,
                "shed": self.shed_counts[tier],
            }
            for tier in Tier
        }
        return body


async def serve_admin(degradation: Degradation, scope: Scope, receive: Receive, send: Send) -> None:
    """Every ``/admin/`` route: ``GET`` and ``POST /admin/degradation``."""
    try:
        if scope["path"] != DEGRADATION_ROUTE:
            raise NotFoundError(f"no admin route {scope['path']}")
        if scope["method"] == "GET":
            await _json(send, 200, degradation.state())
            return
        if scope["method"] != "POST":
            raise BadRequestError(f"{scope['method']} {DEGRADATION_ROUTE}: use GET or POST")
        plan = _parse(await _body(receive))
        applied = degradation.apply(plan)
        current = degradation.plan
        assert current is not None
        await _json(
            send,
            200,
            {"level": current.level.label, "sequence": current.sequence, "applied": applied},
        )
    except StaleTokenError as exc:
        body = {"error": exc.to_payload(), "highest_fencing_token": degradation.fence.newest}
        await _json(send, 409, body)
    except RuvstreamError as exc:
        await send_error(send, exc)


def _parse(raw: bytes) -> DegradationPlan:
    try:
        body = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise InvalidJsonError(f"degradation plan: not JSON ({exc})") from None
    if not isinstance(body, dict):
        raise BadRequestError("degradation plan: expected a JSON object")
    try:
        plan = DegradationPlan.from_body(body)
    except ValueError as exc:
        raise BadRequestError(str(exc)) from None
    for name, tier in plan.actions.tiers.items():
        if tier.connection_limit_factor < 0 or not 0 <= tier.shed_share <= 1:
            raise BadRequestError(
                f"degradation plan: tier {name} needs connection_limit_factor >= 0 "
                "and shed_share in [0, 1]"
            )
    return plan


async def _body(receive: Receive) -> bytes:
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > MAX_BODY:
            raise PayloadTooLargeError(f"a degradation plan is at most {MAX_BODY} bytes")
        chunks.append(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks)


async def _json(send: Send, status: int, payload: dict[str, Any]) -> None:
    body = orjson.dumps(payload)
    headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
    ]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
