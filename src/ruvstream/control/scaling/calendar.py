"""The event calendar: known bursts (a final, a release) and the patterns they follow.

A ``BurstPattern`` is what history says an event type does to load: a peak
multiplier over the pre-event baseline, a duration, and when in that
duration the peak comes. The four patterns and their figures are the
original design's (``burst-predictor.ts:74-110``). Its lookup keyed the
patterns by pattern name but gave events the types ``sports``, ``release``,
``promotion`` and ``other``, so no event ever matched; here an event's
``type`` is a pattern name, or one of ``TYPE_ALIASES`` that names one, and
anything else is refused when the event is made. ``other`` maps to the
original's conservative fallback (10x for an hour, confidence 0.5).

The profile between the figures: the audience arrives before the event
starts (viewers tune in before kick-off), rising linearly over
``arrival_seconds`` (default 300) so that at the start load is already
``onset_share`` (default half) of the way to the peak; it then rises
linearly to the peak at the peak offset and falls linearly back to the
baseline at the end. The original gives only the three figures (and
pre-warmed 900 s ahead, which says load comes early); arrival and onset
are this module's choice, and the reactive scaler covers what the shape
misses.

File format (JSON, ``load``/``save``, version 1)::

    {"version": 1,
     "patterns": {"derby": {"multiplier": 8, "duration_seconds": 7200,
                            "peak_offset_seconds": 3600, "regions": ["europe-west1"],
                            "onset_share": 0.5, "arrival_seconds": 300}},
     "events": [{"id": "wc-final", "name": "World Cup final", "type": "world-cup-final",
                 "start": "2026-07-19T15:00:00Z", "regions": ["us-central1"],
                 "expected_audience": 2000000000}]}

``patterns`` is optional and adds to (or overrides) the built-in ones;
``start`` is ISO 8601 with a zone, or Unix seconds; ``regions``,
``expected_audience`` (concurrent streams at the peak, over all the event's
regions), ``multiplier`` and ``duration_seconds`` (overrides of the pattern)
are optional. Validation names the field that is wrong.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from .errors import CalendarError

__all__ = [
    "CONSERVATIVE",
    "PATTERNS",
    "TYPE_ALIASES",
    "BurstPattern",
    "Calendar",
    "CalendarEvent",
    "ResolvedEvent",
    "iso_utc",
    "parse_time",
]

FORMAT_VERSION = 1


@dataclass(frozen=True, slots=True)
class BurstPattern:
    """How an event type moves load: ``multiplier`` x baseline at ``peak_offset_seconds``.

    Invariants: multiplier >= 1, 0 <= peak offset <= duration, duration > 0.
    ``regions`` are the regions the pattern hits when an event names none.
    ``confidence`` is how far the figures are trusted (0..1); ``onset_share`` is
    the share of the peak excess already present at the start (0..1), reached
    over the ``arrival_seconds`` before it.
    """

    name: str
    multiplier: float
    duration_seconds: float
    peak_offset_seconds: float
    regions: tuple[str, ...]
    confidence: float = 0.9
    onset_share: float = 0.5
    arrival_seconds: float = 300.0

    def __post_init__(self) -> None:
        if not (self.multiplier >= 1 and math.isfinite(self.multiplier)):
            raise CalendarError(f"pattern {self.name}: multiplier must be >= 1")
        if not self.duration_seconds > 0:
            raise CalendarError(f"pattern {self.name}: duration_seconds must be > 0")
        if not 0 <= self.peak_offset_seconds <= self.duration_seconds:
            raise CalendarError(
                f"pattern {self.name}: peak_offset_seconds must lie in [0, duration_seconds]"
            )
        if not 0 <= self.onset_share <= 1:
            raise CalendarError(f"pattern {self.name}: onset_share must lie in [0, 1]")
        if self.arrival_seconds < 0:
            raise CalendarError(f"pattern {self.name}: arrival_seconds must be >= 0")

    def shape(self, offset: float, duration: float | None = None) -> float:
        """Share of the peak excess present ``offset`` s after the start (0 outside)."""
        end = self.duration_seconds if duration is None else duration
        peak = self.peak_offset_seconds * end / self.duration_seconds
        if offset < 0:
            if offset < -self.arrival_seconds or self.arrival_seconds == 0:
                return 0.0
            return self.onset_share * (offset + self.arrival_seconds) / self.arrival_seconds
        if offset >= end:
            return 0.0
        if offset <= peak:
            return 1.0 if peak == 0 else self.onset_share + (1 - self.onset_share) * offset / peak
        return (end - offset) / (end - peak)


# The original design's historical patterns (burst-predictor.ts:74-110); its region
# ``south-america-east1`` is spelled as GCP spells it.
PATTERNS: Mapping[str, BurstPattern] = {
    p.name: p
    for p in (
        BurstPattern(
            "world-cup-final",
            45.0,
            7200.0,
            5400.0,
            ("us-central1", "europe-west1", "southamerica-east1"),
        ),
        BurstPattern("major-release", 15.0, 14400.0, 1800.0, ("us-central1", "europe-west1")),
        BurstPattern("live-concert", 25.0, 5400.0, 2700.0, ("us-central1",)),
        BurstPattern("product-launch", 12.0, 3600.0, 900.0, ("us-central1", "asia-east1")),
    )
}

# The original's fallback for unmatched events (burst-predictor.ts:273-292): 10x for an
# hour at confidence 0.5. It gives no peak offset; the middle is this module's choice.
CONSERVATIVE = BurstPattern("conservative", 10.0, 3600.0, 1800.0, (), confidence=0.5)

# The original's event types, each mapped to the pattern it meant (inventory B3).
TYPE_ALIASES: Mapping[str, str] = {
    "sports": "world-cup-final",
    "release": "major-release",
    "concert": "live-concert",
    "promotion": "product-launch",
    "other": CONSERVATIVE.name,
}


@dataclass(frozen=True, slots=True)
class CalendarEvent:
    """One expected burst. ``start`` is Unix seconds (UTC); ``regions`` empty = the pattern's."""

    id: str
    name: str
    type: str
    start: float
    regions: tuple[str, ...] = ()
    expected_audience: int | None = None
    multiplier: float | None = None
    duration_seconds: float | None = None

    def resolve(self, patterns: Mapping[str, BurstPattern]) -> BurstPattern:
        """The pattern this event follows (aliases resolved); CalendarError if none."""
        name = TYPE_ALIASES.get(self.type, self.type)
        if name == CONSERVATIVE.name:
            return CONSERVATIVE
        try:
            return patterns[name]
        except KeyError:
            known = sorted({*patterns, *TYPE_ALIASES})
            raise CalendarError(
                f"event {self.id}: unknown type {self.type!r}; choose from {', '.join(known)}"
            ) from None


@dataclass(frozen=True, slots=True)
class ResolvedEvent:
    """An event with its pattern applied: the figures the predictor uses."""

    event: CalendarEvent
    pattern: BurstPattern
    regions: tuple[str, ...]
    multiplier: float
    duration_seconds: float
    confidence: float

    @property
    def start(self) -> float:
        return self.event.start

    @property
    def begin(self) -> float:
        """When load starts to arrive (``arrival_seconds`` before the start)."""
        return self.event.start - self.pattern.arrival_seconds

    @property
    def end(self) -> float:
        return self.event.start + self.duration_seconds

    def multiplier_at(self, t: float) -> float:
        """Expected load over baseline at wall time ``t`` (1.0 outside the event)."""
        share = self.pattern.shape(t - self.start, self.duration_seconds)
        return 1.0 + (self.multiplier - 1.0) * share


@dataclass
class Calendar:
    """Known events and the patterns they resolve against. Event ids are unique."""

    patterns: dict[str, BurstPattern] = field(default_factory=lambda: dict(PATTERNS))
    _events: dict[str, ResolvedEvent] = field(default_factory=dict)

    _sorted: list[ResolvedEvent] = field(default_factory=list)

    def add(self, event: CalendarEvent) -> ResolvedEvent:
        if event.id in self._events:
            raise CalendarError(f"event {event.id}: id already in the calendar")
        resolved = self._resolve(event)
        self._events[event.id] = resolved
        self._sort()
        return resolved

    def remove(self, event_id: str) -> None:
        self._events.pop(event_id, None)
        self._sort()

    def _sort(self) -> None:
        self._sorted = sorted(self._events.values(), key=lambda e: (e.start, e.event.id))

    def __iter__(self) -> Iterator[ResolvedEvent]:
        return iter(self._sorted)

    def __len__(self) -> int:
        return len(self._events)

    def upcoming(self, now: float, lookahead_seconds: float) -> list[ResolvedEvent]:
        """Events starting in ``(now, now + lookahead]``, by start (the original's rule)."""
        return [e for e in self if 0 < e.start - now <= lookahead_seconds]

    def overlapping(self, t0: float, t1: float, region: str | None = None) -> list[ResolvedEvent]:
        """Events whose ``[begin, end)`` meets ``[t0, t1]``, optionally hitting ``region``."""
        return [
            e
            for e in self
            if e.begin <= t1 and e.end > t0 and (region is None or region in e.regions)
        ]

    def _resolve(self, event: CalendarEvent) -> ResolvedEvent:
        pattern = event.resolve(self.patterns)
        confidence = pattern.confidence
        if event.expected_audience is not None:
            confidence = min(1.0, confidence + 0.05)  # the original's bonus for a known audience
        return ResolvedEvent(
            event=event,
            pattern=pattern,
            regions=event.regions or pattern.regions,
            multiplier=event.multiplier if event.multiplier is not None else pattern.multiplier,
            duration_seconds=event.duration_seconds or pattern.duration_seconds,
            confidence=confidence,
        )

    # -- file format -------------------------------------------------------------

    def to_json(self) -> dict[str, Any]:
        custom = {n: p for n, p in self.patterns.items() if PATTERNS.get(n) != p}
        doc: dict[str, Any] = {"version": FORMAT_VERSION}
        if custom:
            doc["patterns"] = {n: _pattern_json(p) for n, p in custom.items()}
        doc["events"] = [_event_json(e.event) for e in self]
        return doc

    @classmethod
    def from_json(cls, doc: object) -> Calendar:
        if not isinstance(doc, dict):
            raise CalendarError("calendar: expected a JSON object")
        _no_extra(doc, {"version", "patterns", "events"}, "calendar")
        if doc.get("version", FORMAT_VERSION) != FORMAT_VERSION:
            raise CalendarError(f"version: only {FORMAT_VERSION} is understood")
        calendar = cls()
        for name, fields in _mapping(doc.get("patterns", {}), "patterns").items():
            calendar.patterns[name] = _parse_pattern(name, fields)
        for i, raw in enumerate(_list(doc.get("events", []), "events")):
            event = _parse_event(raw, f"events[{i}]")
            try:
                calendar.add(event)
            except CalendarError as exc:
                raise CalendarError(f"events[{i}]: {exc}") from None
        return calendar

    @classmethod
    def load(cls, path: Path) -> Calendar:
        try:
            doc = json.loads(Path(path).read_text())
        except json.JSONDecodeError as exc:
            raise CalendarError(f"{path}: not JSON ({exc})") from None
        try:
            return cls.from_json(doc)
        except CalendarError as exc:
            raise CalendarError(f"{path}: {exc}") from None

    def save(self, path: Path) -> None:
        Path(path).write_text(json.dumps(self.to_json(), indent=2) + "\n")

    @classmethod
    def of(cls, events: Iterable[CalendarEvent]) -> Calendar:
        calendar = cls()
        for event in events:
            calendar.add(event)
        return calendar


def iso_utc(t: float) -> str:
    return datetime.fromtimestamp(t, tz=UTC).isoformat().replace("+00:00", "Z")


def parse_time(value: object, where: str) -> float:
    """ISO 8601 with a zone, or Unix seconds, to Unix seconds."""
    if isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value):
        return float(value)
    if isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            parsed = None
        if parsed is not None and parsed.tzinfo is not None:
            return parsed.timestamp()
    raise CalendarError(
        f"{where}: expected an ISO 8601 time with a zone or Unix seconds, got {value!r}"
    )


def _event_json(e: CalendarEvent) -> dict[str, Any]:
    out: dict[str, Any] = {"id": e.id, "name": e.name, "type": e.type, "start": iso_utc(e.start)}
    if e.regions:
        out["regions"] = list(e.regions)
    for key in ("expected_audience", "multiplier", "duration_seconds"):
        if getattr(e, key) is not None:
            out[key] = getattr(e, key)
    return out


def _pattern_json(p: BurstPattern) -> dict[str, Any]:
    return {
        "multiplier": p.multiplier,
        "duration_seconds": p.duration_seconds,
        "peak_offset_seconds": p.peak_offset_seconds,
        "regions": list(p.regions),
        "confidence": p.confidence,
        "onset_share": p.onset_share,
        "arrival_seconds": p.arrival_seconds,
    }


_EVENT_KEYS = {
    "id",
    "name",
    "type",
    "start",
    "regions",
    "expected_audience",
    "multiplier",
    "duration_seconds",
}


def _parse_event(raw: object, where: str) -> CalendarEvent:
    fields = _mapping(raw, where)
    _no_extra(fields, _EVENT_KEYS, where)
    for key in ("id", "type", "start"):
        if key not in fields:
            raise CalendarError(f"{where}.{key}: missing")
    audience = fields.get("expected_audience")
    if audience is not None and (not isinstance(audience, int) or audience < 0):
        raise CalendarError(f"{where}.expected_audience: expected a whole number >= 0")
    multiplier = _number(fields.get("multiplier"), f"{where}.multiplier", minimum=1.0)
    duration = _number(fields.get("duration_seconds"), f"{where}.duration_seconds", minimum=1.0)
    return CalendarEvent(
        id=_text(fields["id"], f"{where}.id"),
        name=_text(fields.get("name", fields["id"]), f"{where}.name"),
        type=_text(fields["type"], f"{where}.type"),
        start=parse_time(fields["start"], f"{where}.start"),
        regions=_regions(fields.get("regions", []), f"{where}.regions"),
        expected_audience=audience,
        multiplier=multiplier,
        duration_seconds=duration,
    )


def _parse_pattern(name: str, raw: object) -> BurstPattern:
    where = f"patterns.{name}"
    fields = _mapping(raw, where)
    _no_extra(
        fields,
        {
            "multiplier",
            "duration_seconds",
            "peak_offset_seconds",
            "regions",
            "confidence",
            "onset_share",
            "arrival_seconds",
        },
        where,
    )
    numbers = []
    for key in ("multiplier", "duration_seconds", "peak_offset_seconds"):
        value = _number(fields.get(key), f"{where}.{key}", minimum=0.0)
        if value is None:
            raise CalendarError(f"{where}.{key}: missing")
        numbers.append(value)
    confidence = _number(fields.get("confidence", 0.9), f"{where}.confidence", minimum=0.0)
    onset = _number(fields.get("onset_share", 0.5), f"{where}.onset_share", minimum=0.0)
    arrival = _number(fields.get("arrival_seconds", 300.0), f"{where}.arrival_seconds", minimum=0.0)
    try:
        return BurstPattern(
            name=name,
            multiplier=numbers[0],
            duration_seconds=numbers[1],
            peak_offset_seconds=numbers[2],
            regions=_regions(fields.get("regions", []), f"{where}.regions"),
            confidence=min(1.0, confidence or 0.0),
            onset_share=onset or 0.0,
            arrival_seconds=arrival or 0.0,
        )
    except CalendarError as exc:
        raise CalendarError(f"{where}: {exc}") from None


def _mapping(raw: object, where: str) -> dict[str, Any]:
    if not isinstance(raw, dict):
        raise CalendarError(f"{where}: expected a JSON object")
    return raw


def _list(raw: object, where: str) -> list[Any]:
    if not isinstance(raw, list):
        raise CalendarError(f"{where}: expected a JSON list")
    return raw


def _no_extra(fields: Mapping[str, Any], allowed: set[str], where: str) -> None:
    extra = sorted(set(fields) - allowed)
    if extra:
        raise CalendarError(f"{where}: unknown field(s) {', '.join(extra)}")


def _text(raw: object, where: str) -> str:
    if not isinstance(raw, str) or not raw.strip():
        raise CalendarError(f"{where}: expected a non-empty string")
    return raw


def _number(raw: object, where: str, *, minimum: float) -> float | None:
    if raw is None:
        return None
    if isinstance(raw, bool) or not isinstance(raw, int | float) or not math.isfinite(raw):
        raise CalendarError(f"{where}: expected a number")
    if raw < minimum:
        raise CalendarError(f"{where}: must be >= {minimum:g}")
    return float(raw)


def _regions(raw: object, where: str) -> tuple[str, ...]:
    items = _list(raw, where)
    for i, item in enumerate(items):
        _text(item, f"{where}[{i}]")
    return tuple(items)
