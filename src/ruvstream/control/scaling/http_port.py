"""The degradation port over HTTP: ``POST /admin/degradation`` on the router.

Request (JSON, ``DegradationPlan.to_body``)::

    POST /admin/degradation
    Authorization: Bearer <admin key>
    Content-Type: application/json

    {"level": "major",                      # none | minor | major | critical
     "reason": "budget pressure 1.31",
     "pressure": 1.31,
     "issued_at": 1784473200.0,             # Unix seconds
     "sequence": 17,                        # +1 per plan from this leader
     "fencing_token": 42,                   # the leader's token
     "tiers": {"free":     {"connection_limit_factor": 0.8, "shed_share": 0.5},
               "standard": {"connection_limit_factor": 0.9, "shed_share": 0.0},
               "premium":  {"connection_limit_factor": 1.0, "shed_share": 0.0}},
     "shed_order": ["free", "standard"],    # under overload, refuse these first, in order
     "cache_ttl_multiplier": 2.0,
     "defer_background": true,              # postpone compaction, snapshots, re-indexing
     "disabled_features": ["recommendations", "analytics"],
     "aggressive_pooling": true,
     "impact": "Major impact - free tier heavily restricted, some features disabled"}

``connection_limit_factor`` multiplies the tier's ``max_connections``
(``routing.tiers.TierPolicy``; 0 closes the tier to new connections);
``shed_share`` is the share of the tier's new requests refused with 503.

Answers the router gives: ``200`` with ``{"level": ..., "sequence": ...}``
(applied, or already superseded by a later sequence under the same token,
which is not an error); ``409`` with ``{"highest_fencing_token": N}`` when the
token is older than one already seen (this caller is no longer the leader:
``StaleFencingTokenError``); ``400`` for a malformed body and ``401``/``403``
without an admin key (``PortError`` with the status). Network failures and
any other status raise ``PortError``; the orchestrator retries next tick.
"""

from __future__ import annotations

import httpx

from .degradation import DegradationPlan
from .errors import PortError, StaleFencingTokenError

__all__ = ["DEGRADATION_PATH", "HttpDegradationPort"]

DEGRADATION_PATH = "/admin/degradation"


class HttpDegradationPort:
    """``DegradationPort`` over HTTP; owns its client unless one is passed in."""

    def __init__(
        self,
        base_url: str,
        *,
        api_key: str | None = None,
        timeout: float = 5.0,
        client: httpx.AsyncClient | None = None,
    ) -> None:
        self.url = base_url.rstrip("/") + DEGRADATION_PATH
        self._headers = {"authorization": f"Bearer {api_key}"} if api_key else {}
        self._owned = client is None
        self._client = client or httpx.AsyncClient(timeout=timeout)

    async def apply(self, plan: DegradationPlan) -> None:
        try:
            response = await self._client.post(self.url, json=plan.to_body(), headers=self._headers)
        except httpx.HTTPError as exc:
            raise PortError(f"POST {self.url}: {exc!r}") from exc
        if response.status_code == 409:
            highest = _highest_token(response)
            raise StaleFencingTokenError(plan.fencing_token, highest)
        if not response.is_success:
            raise PortError(
                f"POST {self.url}: {response.status_code} {response.text[:200]}",
                status=response.status_code,
            )

    async def aclose(self) -> None:
        if self._owned:
            await self._client.aclose()


def _highest_token(response: httpx.Response) -> int:
    try:
        return int(response.json()["highest_fencing_token"])
    except (ValueError, KeyError, TypeError):
        return -1
