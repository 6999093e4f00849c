"""The original design's cost tables: the calculator reproduces its totals, and names
where its own figures disagree."""

from __future__ import annotations

import pytest

from ruvstream.sim import (
    BURST_README,
    COST_TABLES,
    TOTALS,
    inconsistencies,
    per_stream_month,
    total,
)


@pytest.mark.parametrize(
    ("table", "dollars"),
    [
        ("baseline", 4_026_500),
        ("optimized", 2_752_000),
        ("deployment-guide", 2_750_000),
        ("world-cup-event", 79_200),
    ],
)
def test_each_stated_total_is_the_sum_of_its_items_to_the_dollar(table: str, dollars: int) -> None:
    assert total(table) == dollars == TOTALS[table]


def test_the_derived_figures_follow_from_the_totals() -> None:
    assert round((total("baseline") - total("optimized")) / total("baseline"), 4) == 0.3165
    assert round(per_stream_month("baseline"), 5) == 0.00805
    assert round(per_stream_month("optimized"), 4) == 0.0055
    assert total("world-cup-event") / 4 == 19_800  # per hour
    assert round(total("world-cup-3h"), -3) == TOTALS["world-cup-3h"]  # "~$88K"


def test_the_burst_readme_table_is_priced_at_one_fifty_an_instance_hour() -> None:
    for instances, hourly, daily, monthly in BURST_README.values():
        assert hourly == instances * 1.5
        assert daily == hourly * 24 and monthly == daily * 30


def test_the_inconsistencies_are_named_and_each_disagrees() -> None:
    found = {i.name: i for i in inconsistencies()}
    assert found["streams held by the baseline fleet"].computed == 500_000
    assert round(found["'30%' compute saving"].computed, 3) == 0.348
    assert round(found["'30%' networking saving"].computed, 3) == 0.306
    assert found["scaling-strategy savings"].computed == 1_132_500
    assert found["3-hour vs 4-hour World Cup"].computed > found["3-hour vs 4-hour World Cup"].stated
    assert found["Cloud Run vCPU-hours"].computed == pytest.approx(1_261_440)
    assert found["burst README price per instance-hour"].computed == 1.5
    assert round(found["$4.84 per million requests"].computed, -2) == 316_600
    holds = {"saving claimed 31.7%"}
    for name, i in found.items():
        if name not in holds:
            assert round(i.stated, 3) != round(i.computed, 3), name


def test_every_table_item_has_a_known_group() -> None:
    groups = {"compute", "networking", "storage", "monitoring", "security"}
    assert all(i.group in groups for items in COST_TABLES.values() for i in items)
