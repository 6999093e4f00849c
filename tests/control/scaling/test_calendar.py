"""The calendar: the original's patterns as data, matched correctly, and its file format."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ruvstream.control.scaling import (
    CONSERVATIVE,
    PATTERNS,
    Calendar,
    CalendarError,
    CalendarEvent,
)

T0 = 1_784_473_200.0  # 2026-07-19T15:00:00Z


def test_the_original_patterns_with_their_figures() -> None:
    figures = {
        n: (p.multiplier, p.duration_seconds, p.peak_offset_seconds) for n, p in PATTERNS.items()
    }
    assert figures == {
        "world-cup-final": (45.0, 7200.0, 5400.0),
        "major-release": (15.0, 14400.0, 1800.0),
        "live-concert": (25.0, 5400.0, 2700.0),
        "product-launch": (12.0, 3600.0, 900.0),
    }


@pytest.mark.parametrize(
    ("event_type", "pattern"),
    [
        ("sports", "world-cup-final"),
        ("release", "major-release"),
        ("concert", "live-concert"),
        ("promotion", "product-launch"),
        ("other", "conservative"),
        ("world-cup-final", "world-cup-final"),
        ("product-launch", "product-launch"),
    ],
)
def test_every_event_type_matches_its_pattern(event_type: str, pattern: str) -> None:
    resolved = Calendar().add(CalendarEvent("e", "e", event_type, T0))
    assert resolved.pattern.name == pattern


def test_unknown_type_is_refused_naming_the_choices() -> None:
    with pytest.raises(CalendarError, match=r"unknown type 'wedding'.*world-cup-final"):
        Calendar().add(CalendarEvent("e", "e", "wedding", T0))


def test_profile_onset_peak_and_end() -> None:
    e = Calendar().add(CalendarEvent("wc", "final", "sports", T0))
    assert e.regions == PATTERNS["world-cup-final"].regions
    assert e.multiplier_at(T0 - 301) == 1.0
    assert e.multiplier_at(T0 - 150) == pytest.approx(1 + 44 * 0.25)  # the audience arriving
    assert e.multiplier_at(T0) == pytest.approx(1 + 44 * 0.5)
    assert e.multiplier_at(T0 + 5400) == pytest.approx(45.0)
    assert e.multiplier_at(T0 + 7200) == 1.0
    assert e.confidence == 0.9
    conservative = Calendar().add(CalendarEvent("x", "x", "other", T0, expected_audience=5))
    assert conservative.confidence == pytest.approx(CONSERVATIVE.confidence + 0.05)


def test_upcoming_uses_the_lookahead() -> None:
    cal = Calendar.of([CalendarEvent("late", "late", "release", T0 + 25 * 3600)])
    assert cal.upcoming(T0, 24 * 3600) == []
    assert [e.event.id for e in cal.upcoming(T0, 48 * 3600)] == ["late"]


def test_file_round_trip(tmp_path: Path) -> None:
    doc = {
        "version": 1,
        "patterns": {
            "derby": {
                "multiplier": 8,
                "duration_seconds": 7200,
                "peak_offset_seconds": 3600,
                "regions": ["europe-west1"],
            }
        },
        "events": [
            {
                "id": "wc",
                "name": "World Cup final",
                "type": "world-cup-final",
                "start": "2026-07-19T15:00:00Z",
                "regions": ["us-central1", "europe-west1"],
                "expected_audience": 2_000_000_000,
            },
            {
                "id": "d",
                "name": "Derby",
                "type": "derby",
                "start": T0 + 86400,
                "multiplier": 10,
                "duration_seconds": 3600,
            },
        ],
    }
    path = tmp_path / "events.json"
    path.write_text(json.dumps(doc))
    cal = Calendar.load(path)
    assert [e.event.id for e in cal] == ["wc", "d"]
    assert cal.patterns["derby"].multiplier == 8
    again = tmp_path / "again.json"
    cal.save(again)
    reloaded = Calendar.load(again)
    assert [e.event for e in reloaded] == [e.event for e in cal]
    assert reloaded.to_json() == cal.to_json()
    assert list(reloaded)[1].multiplier == 10


@pytest.mark.parametrize(
    ("doc", "message"),
    [
        ({"events": [{"id": "a", "type": "sports"}]}, r"events\[0\]\.start: missing"),
        (
            {"events": [{"id": "a", "type": "sports", "start": "2026-13-01"}]},
            r"events\[0\]\.start: expected an ISO 8601 time",
        ),
        (
            {"events": [{"id": "a", "type": "sports", "start": "2026-07-19T15:00:00"}]},
            r"events\[0\]\.start: expected an ISO 8601 time with a zone",
        ),
        ({"events": [{"id": "a", "type": "wedding", "start": 0}]}, r"events\[0\].*unknown type"),
        (
            {"events": [{"id": "a", "type": "sports", "start": 0, "colour": "red"}]},
            r"events\[0\]: unknown field\(s\) colour",
        ),
        (
            {"events": [{"id": "a", "type": "sports", "start": 0, "expected_audience": -1}]},
            r"events\[0\]\.expected_audience",
        ),
        (
            {
                "events": [
                    {"id": "a", "type": "sports", "start": 0},
                    {"id": "a", "type": "release", "start": 0},
                ]
            },
            r"events\[1\].*already",
        ),
        ({"events": {}}, r"events: expected a JSON list"),
        ({"version": 2}, r"version"),
        (
            {
                "patterns": {
                    "p": {"multiplier": 2, "duration_seconds": 10, "peak_offset_seconds": 20}
                }
            },
            r"patterns\.p.*peak_offset",
        ),
    ],
)
def test_bad_files_are_refused_naming_what_is_wrong(
    tmp_path: Path, doc: dict[str, object], message: str
) -> None:
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(doc))
    with pytest.raises(CalendarError, match=message):
        Calendar.load(path)


def test_not_json_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "bad.json"
    path.write_text("{nope")
    with pytest.raises(CalendarError, match="not JSON"):
        Calendar.load(path)
