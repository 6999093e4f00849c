"""The predictor pre-warms for calendar events, one measured start-up ahead."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from ruvstream.control.scaling import (
    Calendar,
    CalendarEvent,
    Predictor,
    PredictorConfig,
)

from .helpers import NODE, REGION, config, run, simulation

START = 1_800_000_000.0
BASE_QPS = 700.0


def launch(at: float, **kw: object) -> Calendar:
    return Calendar.of(
        [CalendarEvent("launch", "launch", "product-launch", at, regions=(REGION,), **kw)]
    )  # type: ignore[arg-type]


def test_calendar_event_prewarms_before_its_start() -> None:
    event_at = START + 600
    sim = simulation(calendar=launch(event_at))
    lead = sim.orchestrator.predictor.lead_seconds  # type: ignore[union-attr]
    assert lead == NODE.startup_seconds + 60
    onset = NODE.instances_for(BASE_QPS * (1 + 11 * 0.5), 0)
    ticks = []
    while sim.clock.now() < event_at:
        ticks.append(sim.step({REGION: (BASE_QPS, 0.0)})[0])
    cal_arrival = 300.0  # the pattern's audience arrival before the start
    before_lead = [k for k in ticks if k.t + START < event_at - cal_arrival - lead]
    assert {k.desired for k in before_lead} == {10}, "nothing is bought before the lead"
    assert ticks[-1].running >= onset, "the onset's capacity is serving at the start"
    first_up = next(k for k in ticks if k.desired > 10)
    assert first_up.reason == "predicted"
    decision = sim.orchestrator.log.query(reasons=["predicted"])[0]
    assert decision.event_id == "launch" and decision.prediction_source == "event"


def test_low_confidence_predictions_are_not_acted_on() -> None:
    event_at = START + 300
    sim = simulation(replace(config(), min_confidence=0.95), calendar=launch(event_at))
    desired = run(sim, BASE_QPS, 200)
    assert set(desired) == {10}


def test_expected_audience_sizes_the_peak() -> None:
    cal = launch(START + 1000, expected_audience=100_000)
    p = Predictor(cal, NODE)
    p.observe(REGION, START, 700.0, 1000.0)
    peak = p.predict(REGION, START + 1000 + 900 - p.lead_seconds / 2)
    assert peak.source == "event" and peak.confidence == pytest.approx(0.95)
    assert peak.streams >= 100_000 * 0.9
    plan = p.schedule(START)
    prewarm_at = START + 1000 - 300 - p.lead_seconds
    assert [(s.event_id, s.prewarm_at) for s in plan] == [("launch", prewarm_at)]
    assert plan[0].instances >= NODE.instances_for(0, 100_000)


def test_events_do_not_inflate_the_baseline() -> None:
    cal = launch(START)
    p = Predictor(cal, NODE, PredictorConfig(bucket_seconds=60))
    for t in range(0, 3600, 10):
        m = cal.overlapping(START + t, START + t, REGION)
        observed = BASE_QPS * (m[0].multiplier_at(START + t) if m else 1.0)
        p.observe(REGION, START + t, observed, 0.0)
    after = p.predict(REGION, START + 3700)
    assert after.source == "forecast"
    assert np.isclose(after.qps, BASE_QPS, rtol=0.05)


def test_no_history_predicts_nothing() -> None:
    p = Predictor(Calendar(), NODE)
    assert p.predict(REGION, START).source == "none"
    assert p.predict(REGION, START).instances == 0


def test_a_running_event_smaller_than_its_pattern_scales_the_rest_down() -> None:
    """Against a baseline from earlier days, the event's real size replaces the pattern's."""
    cal = launch(START)
    p = Predictor(cal, NODE)
    for t in range(-86400, 0, 300):  # a flat day before: the seasonal-naive baseline
        p.observe(REGION, START + t, BASE_QPS, 0.0)
    event = next(iter(cal))
    for t in range(0, 900, 2):  # the launch turns out at 60 % of the pattern's excess
        m = 1 + (event.multiplier_at(START + t) - 1) * 0.6
        p.observe(REGION, START + t, BASE_QPS * m, 0.0)
    assert p.scale("launch", REGION) == pytest.approx(0.6, abs=0.05)
    ahead = p.predict(REGION, START + 900)
    real_peak = BASE_QPS * (1 + (event.multiplier - 1) * 0.6)
    assert ahead.qps == pytest.approx(real_peak, rel=0.1)
