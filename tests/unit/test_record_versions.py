"""Last-writer-wins on its own: the newer-than rule, tombstones, the floor, pruning."""

from __future__ import annotations

from ruvstream.engine.record_versions import NEVER, RecordVersions


def test_a_write_wins_only_over_older_versions_and_origin_breaks_ties() -> None:
    state = RecordVersions()
    assert state.newer("a", (1, "x")) and state.version_of("a") is None
    state.written("a", (5, "m"))
    assert state.version_of("a") == (5, "m")
    assert not state.newer("a", (5, "m")), "the same write again changes nothing"
    assert not state.newer("a", (4, "z"))
    assert not state.newer("a", (5, "a")) and state.newer("a", (5, "z"))
    assert state.newer("a", (6, "a"))


def test_a_tombstone_keeps_a_late_older_write_out_and_a_rewrite_clears_it() -> None:
    state = RecordVersions()
    state.written("a", (1, "x"))
    state.deleted("a", (3, "x"))
    assert "a" not in state.versions and state.tombstones == {"a": (3, "x")}
    assert not state.newer("a", (2, "x")), "no resurrection by an older upsert"
    state.written("a", (4, "x"))
    assert state.versions == {"a": (4, "x")} and not state.tombstones


def test_raising_the_floor_forgets_what_was_written_before_it() -> None:
    state = RecordVersions()
    assert state.floor == NEVER
    for record_id, hlc in [("old", 1), ("kept", 9)]:
        state.written(record_id, (hlc, "x"))
    state.deleted("gone-early", (2, "x"))
    state.deleted("gone-late", (8, "x"))
    assert state.raise_floor((5, "x")) == ["old"]
    assert state.versions == {"kept": (9, "x")}
    assert state.tombstones == {"gone-late": (8, "x")}, "the floor speaks for older ones"
    assert not state.newer("new-id", (5, "x")) and not state.newer("new-id", (4, "z"))
    assert state.newer("new-id", (5, "y"))
    assert state.raise_floor((3, "x")) == [] and state.floor == (5, "x"), "never lowered"


def test_pruning_forgets_tombstones_older_than_the_horizon_only() -> None:
    state = RecordVersions()
    state.deleted("a", (10, "x"))
    state.deleted("b", (20, "x"))
    assert state.prune_tombstones(15) == 1
    assert state.tombstones == {"b": (20, "x")}
    assert state.prune_tombstones(15) == 0
