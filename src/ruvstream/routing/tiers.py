"""API keys, tiers and the admission policy: who may send, how much, who is shed first.

Tiers are priority classes: ``PREMIUM`` > ``STANDARD`` > ``FREE``. Each has a
``TierPolicy``: a rate limit (per key, shared across routers through the rate
limiter), a cap on concurrent requests and streams per key (per router), and
``shed_at``, the fleet pressure at which its traffic is refused with 503 so
the rest keeps its latency. Defaults shed free traffic at half pressure and
standard traffic at 0.9; premium is never shed. ``Admission.set_policy`` is
the knob the capacity manager turns when it degrades service.

Pressure (0 = idle, 1 = saturated) is computed by the router from what nodes
report and from its own in-flight count; this module only compares.
"""

from __future__ import annotations

import enum
import json
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from .ratelimit import Limit

__all__ = ["DEFAULT_POLICIES", "Admission", "ApiKey", "KeyRing", "Tier", "TierPolicy"]


class Tier(enum.IntEnum):
    """Higher value = higher priority."""

    FREE = 0
    STANDARD = 1
    PREMIUM = 2

    @property
    def label(self) -> str:
        return self.name.lower()

    @classmethod
    def parse(cls, text: str) -> Tier:
        try:
            return cls[text.upper()]
        except KeyError:
            raise ValueError(
                f"unknown tier {text!r}; choose from free, standard, premium"
            ) from None


@dataclass(frozen=True, slots=True)
class TierPolicy:
    """``max_connections``/``shed_at`` of None mean unlimited / never shed."""

    rate: float
    burst: int
    max_connections: int | None
    shed_at: float | None

    @property
    def limit(self) -> Limit:
        return Limit(self.rate, self.burst)


DEFAULT_POLICIES: dict[Tier, TierPolicy] = {
    Tier.PREMIUM: TierPolicy(rate=5000.0, burst=10000, max_connections=None, shed_at=None),
    Tier.STANDARD: TierPolicy(rate=500.0, burst=1000, max_connections=1000, shed_at=0.9),
    Tier.FREE: TierPolicy(rate=50.0, burst=100, max_connections=100, shed_at=0.5),
}


@dataclass(frozen=True, slots=True)
class ApiKey:
    key: str
    tier: Tier
    name: str = ""


class KeyRing:
    """Known keys; requests without a key get ``anonymous`` (None = a key is required).

    File format (JSON): ``{"keys": [{"key": "k1", "tier": "premium", "name": "acme"}],
    "tiers": {"free": {"rate": 5, "burst": 10, "max_connections": 4, "shed_at": 0.5}},
    "anonymous": "free"}``; ``tiers`` entries override fields of the defaults.
    """

    def __init__(
        self,
        keys: list[ApiKey] | None = None,
        policies: dict[Tier, TierPolicy] | None = None,
        anonymous: Tier | None = Tier.FREE,
    ) -> None:
        self._keys = {k.key: k for k in keys or []}
        self.policies = dict(policies or DEFAULT_POLICIES)
        self.anonymous = anonymous

    @classmethod
    def from_file(cls, path: Path) -> KeyRing:
        return cls.from_json(json.loads(path.read_text()))

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> KeyRing:
        keys = [
            ApiKey(str(k["key"]), Tier.parse(str(k.get("tier", "free"))), str(k.get("name", "")))
            for k in data.get("keys", [])
        ]
        policies = dict(DEFAULT_POLICIES)
        for name, fields in data.get("tiers", {}).items():
            tier = Tier.parse(name)
            policies[tier] = replace(policies[tier], **fields)
        anonymous = data.get("anonymous", "free")
        return cls(keys, policies, None if anonymous is None else Tier.parse(str(anonymous)))

    def lookup(self, key: str) -> ApiKey | None:
        return self._keys.get(key)


class Admission:
    """Per-router admission state: open connections per key, shedding by pressure."""

    def __init__(self, ring: KeyRing) -> None:
        self.ring = ring
        self._open: dict[str, int] = {}

    def policy(self, tier: Tier) -> TierPolicy:
        return self.ring.policies[tier]

    def set_policy(self, tier: Tier, policy: TierPolicy) -> None:
        self.ring.policies[tier] = policy

    def sheds(self, tier: Tier, pressure: float) -> bool:
        shed_at = self.policy(tier).shed_at
        return shed_at is not None and pressure >= shed_at

    def open(self, key: str, tier: Tier) -> bool:
        """Count one more connection for ``key``; False (and nothing counted) over the cap."""
        cap = self.policy(tier).max_connections
        current = self._open.get(key, 0)
        if cap is not None and current >= cap:
            return False
        self._open[key] = current + 1
        return True

    def close(self, key: str) -> None:
        left = self._open.get(key, 0) - 1
        if left > 0:
            self._open[key] = left
        else:
            self._open.pop(key, None)

    def connections(self, key: str) -> int:
        return self._open.get(key, 0)
