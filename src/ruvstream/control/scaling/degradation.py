"""Degradation levels as data, the hysteresis that moves between them, and the plan.

The original design named four levels and their actions
(``capacity-manager.ts:388-427``) but only logged them. Here each level is
a ``DegradationActions`` value the router applies: per-tier connection-limit
factors and shed shares (free is shed first, then standard; premium never),
a cache TTL multiplier, deferral of background work (compaction, snapshots,
re-indexing) and features switched off. Levels are cumulative: each keeps
the actions of the one below and adds its own.

=========  ===========================================================================
minor      free connection limit x0.8, cache TTL x2, background work deferred
major      + shed 50 % of free traffic, standard connection limit x0.9,
           recommendations and analytics off, aggressive connection pooling
critical   + shed all free traffic, standard connection limit x0.5 ("standard to
           50 % capacity"), premium keeps only search (maintenance mode elsewhere)
=========  ===========================================================================

``DegradationPolicy`` picks the level from *pressure*: what the capacity
asked for would cost over what the budget's hard cap allows, or what it
needs over the regions' quotas, whichever is larger. It steps up at once
to the level whose entry threshold pressure has reached (minor 0.9: the
original code's trigger; major 1.2 and critical 1.5: the original runbook's
120 % and 150 %), and recovers one level at a time, only after pressure has
stayed below that level's threshold minus ``recovery_margin`` for
``recovery_hold_seconds``. The original undid a budget-denied "minor" in the
same cycle and never reached "critical" (inventory B9); this is the single
policy it meant.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "LADDER",
    "DegradationActions",
    "DegradationConfig",
    "DegradationLevel",
    "DegradationPlan",
    "DegradationPolicy",
    "TierActions",
]

TIERS = ("free", "standard", "premium")


class DegradationLevel(enum.IntEnum):
    NONE = 0
    MINOR = 1
    MAJOR = 2
    CRITICAL = 3

    @property
    def label(self) -> str:
        return self.name.lower()

    @classmethod
    def parse(cls, text: str) -> DegradationLevel:
        try:
            return cls[text.upper()]
        except KeyError:
            raise ValueError(
                f"unknown degradation level {text!r}; choose from none, minor, major, critical"
            ) from None


@dataclass(frozen=True, slots=True)
class TierActions:
    """``connection_limit_factor`` scales the tier's connection cap; ``shed_share`` of its
    new requests are refused (0..1)."""

    connection_limit_factor: float = 1.0
    shed_share: float = 0.0


@dataclass(frozen=True, slots=True)
class DegradationActions:
    level: DegradationLevel
    tiers: Mapping[str, TierActions]
    cache_ttl_multiplier: float
    defer_background: bool
    disabled_features: tuple[str, ...]
    aggressive_pooling: bool
    impact: str
    shed_order: tuple[str, ...] = ("free", "standard")

    def tier(self, name: str) -> TierActions:
        return self.tiers.get(name, TierActions())


def _tiers(**by_tier: TierActions) -> dict[str, TierActions]:
    return {t: by_tier.get(t, TierActions()) for t in TIERS}


LADDER: Mapping[DegradationLevel, DegradationActions] = {
    DegradationLevel.NONE: DegradationActions(
        DegradationLevel.NONE,
        _tiers(),
        1.0,
        False,
        (),
        False,
        "Normal operations - all features available",
    ),
    DegradationLevel.MINOR: DegradationActions(
        DegradationLevel.MINOR,
        _tiers(free=TierActions(connection_limit_factor=0.8)),
        2.0,
        True,
        (),
        False,
        "Minor impact - free tier users may experience connection limits",
    ),
    DegradationLevel.MAJOR: DegradationActions(
        DegradationLevel.MAJOR,
        _tiers(
            free=TierActions(connection_limit_factor=0.8, shed_share=0.5),
            standard=TierActions(connection_limit_factor=0.9),
        ),
        2.0,
        True,
        ("recommendations", "analytics"),
        True,
        "Major impact - free tier heavily restricted, some features disabled",
    ),
    DegradationLevel.CRITICAL: DegradationActions(
        DegradationLevel.CRITICAL,
        _tiers(
            free=TierActions(connection_limit_factor=0.0, shed_share=1.0),
            standard=TierActions(connection_limit_factor=0.5),
        ),
        2.0,
        True,
        ("recommendations", "analytics", "non-critical"),
        True,
        "Critical - only premium tier with limited functionality",
    ),
}


@dataclass(frozen=True, slots=True)
class DegradationConfig:
    minor_at: float = 0.9
    major_at: float = 1.2
    critical_at: float = 1.5
    recovery_margin: float = 0.1
    recovery_hold_seconds: float = 300.0

    def threshold(self, level: DegradationLevel) -> float:
        return {
            DegradationLevel.NONE: 0.0,
            DegradationLevel.MINOR: self.minor_at,
            DegradationLevel.MAJOR: self.major_at,
            DegradationLevel.CRITICAL: self.critical_at,
        }[level]

    def entry_level(self, pressure: float) -> DegradationLevel:
        for level in reversed(DegradationLevel):
            if level and pressure >= self.threshold(level):
                return level
        return DegradationLevel.NONE


@dataclass
class DegradationPolicy:
    """The current level; up at once, down one level per hold period below threshold."""

    config: DegradationConfig = field(default_factory=DegradationConfig)
    level: DegradationLevel = DegradationLevel.NONE
    calm_since: float | None = None

    def update(self, pressure: float, now: float) -> DegradationLevel:
        entry = self.config.entry_level(pressure)
        if entry > self.level:
            self.level, self.calm_since = entry, None
            return self.level
        if self.level == DegradationLevel.NONE:
            return self.level
        floor = self.config.threshold(self.level) - self.config.recovery_margin
        if pressure >= floor:
            self.calm_since = None
        elif self.calm_since is None:
            self.calm_since = now
        elif now - self.calm_since >= self.config.recovery_hold_seconds:
            self.level = DegradationLevel(self.level - 1)
            self.calm_since = now if self.level else None
        return self.level

    def export_state(self) -> dict[str, Any]:
        return {"level": self.level.label, "calm_since": self.calm_since}

    def import_state(self, doc: Mapping[str, Any]) -> None:
        self.level = DegradationLevel.parse(str(doc["level"]))
        calm = doc.get("calm_since")
        self.calm_since = None if calm is None else float(calm)


@dataclass(frozen=True, slots=True)
class DegradationPlan:
    """What the router must do now; ``to_body`` is the JSON of ``POST /admin/degradation``.

    ``sequence`` grows by one per plan a leader issues and ``fencing_token``
    is the leader's token: a receiver keeps the plan with the highest
    (fencing_token, sequence) and refuses older tokens.
    """

    actions: DegradationActions
    reason: str
    pressure: float
    issued_at: float
    sequence: int
    fencing_token: int

    @property
    def level(self) -> DegradationLevel:
        return self.actions.level

    def to_body(self) -> dict[str, Any]:
        a = self.actions
        return {
            "level": a.level.label,
            "reason": self.reason,
            "pressure": round(self.pressure, 4),
            "issued_at": self.issued_at,
            "sequence": self.sequence,
            "fencing_token": self.fencing_token,
            "tiers": {
                name: {
                    "connection_limit_factor": a.tier(name).connection_limit_factor,
                    "shed_share": a.tier(name).shed_share,
                }
                for name in TIERS
            },
            "shed_order": list(a.shed_order),
            "cache_ttl_multiplier": a.cache_ttl_multiplier,
            "defer_background": a.defer_background,
            "disabled_features": list(a.disabled_features),
            "aggressive_pooling": a.aggressive_pooling,
            "impact": a.impact,
        }

    @classmethod
    def from_body(cls, body: Mapping[str, Any]) -> DegradationPlan:
        """Parse ``to_body``'s JSON; ValueError naming the field when it is malformed."""
        try:
            level = DegradationLevel.parse(str(body["level"]))
            tiers = {
                name: TierActions(
                    float(fields["connection_limit_factor"]), float(fields["shed_share"])
                )
                for name, fields in dict(body["tiers"]).items()
            }
            actions = DegradationActions(
                level=level,
                tiers=tiers,
                cache_ttl_multiplier=float(body["cache_ttl_multiplier"]),
                defer_background=bool(body["defer_background"]),
                disabled_features=tuple(str(f) for f in body["disabled_features"]),
                aggressive_pooling=bool(body.get("aggressive_pooling", False)),
                impact=str(body.get("impact", "")),
                shed_order=tuple(str(t) for t in body.get("shed_order", ("free", "standard"))),
            )
            return cls(
                actions=actions,
                reason=str(body.get("reason", "")),
                pressure=float(body.get("pressure", 0.0)),
                issued_at=float(body["issued_at"]),
                sequence=int(body["sequence"]),
                fencing_token=int(body["fencing_token"]),
            )
        except KeyError as exc:
            raise ValueError(f"degradation plan: missing field {exc.args[0]}") from None
        except (TypeError, ValueError) as exc:
            raise ValueError(f"degradation plan: {exc}") from None
