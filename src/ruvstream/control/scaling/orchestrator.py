"""The orchestrator: one tick = desired = max(predicted, reactive), within limits and budget.

One shared predictor, one reactive scaler and one capacity manager (the
original built two of each that fought, inventory B11). A tick is:

1. ``observe(samples)``: each region's sample goes to the reactive scaler's
   windows, the predictor's history and the budget ledger (billed instances
   x price over the time since the region's previous sample);
2. ``decide(fencing_token)``: per region, the prediction (if its confidence
   reaches ``min_confidence``) and the reactive figure; the larger is wanted,
   the capacity manager clamps it to the region's limits and the budget and
   moves the degradation level; every region's decision goes to the log and
   the metrics. Pure: no port is called, so ``decide`` is the dry run;
3. ``act(plan, actuator, port)``: regions whose count changed (all of them on
   the first tick) go to the actuator, and the degradation plan goes to the
   port when its level changed (or on the first tick), each with the tick's
   fencing token. A port's exception propagates: what was not delivered is
   sent again next tick, and ``StaleFencingTokenError`` tells the caller it is
   no longer the leader.

The predictor only ever raises capacity: a falling prediction never scales
in by itself, because the reactive scaler's scale-in guards (cooldown,
stabilisation, gradual steps) decide when capacity may go (AWS predictive
scaling likewise scales out only).

State for a restart: ``export_state``/``import_state`` carry the reactive
scaler (windows, panic, cooldowns), the budget spend, the degradation level
and the plan sequence as bytes under ``STATE_KEYS``; ``save``/``restore`` do
it through a ``StateStore``. Without saved state the scaler starts
conservative (no scale-in before a full stable window).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from .capacity import Allocation, CapacityManager
from .decisions import Decision, DecisionLog, ScalingMetrics
from .degradation import LADDER, DegradationPlan
from .ports import CapacityActuator, DegradationPort, StateStore
from .predictor import Prediction, Predictor
from .reactive import ReactiveDecision, ReactiveScaler, RegionSample

__all__ = ["STATE_KEYS", "Orchestrator", "TickPlan"]

STATE_KEYS = ("scaling/reactive", "scaling/capacity")


@dataclass(frozen=True, slots=True)
class TickPlan:
    """What one tick decided. ``to_send`` are the regions the actuator gets."""

    t: float
    fencing_token: int
    desired: Mapping[str, int]
    to_send: tuple[str, ...]
    decisions: tuple[Decision, ...]
    allocation: Allocation
    degradation: DegradationPlan
    send_degradation: bool
    dry_run: bool


@dataclass
class Orchestrator:
    scaler: ReactiveScaler
    capacity: CapacityManager
    predictor: Predictor | None = None
    log: DecisionLog = field(default_factory=DecisionLog)
    metrics: ScalingMetrics | None = None
    min_confidence: float = 0.5

    def __post_init__(self) -> None:
        self._last_sample: dict[str, RegionSample] = {}
        self._sent: dict[str, int] = {}
        self._sent_level: int | None = None
        self._planned_level: int | None = None
        self._sequence = 0
        self._now = 0.0

    @property
    def regions(self) -> list[str]:
        return sorted(self._last_sample)

    def observe(self, samples: Iterable[RegionSample]) -> None:
        for s in samples:
            prev = self._last_sample.get(s.region)
            if prev is not None:
                self.capacity.record_spend(s.region, prev.t, s.t, prev.instances)
            self.scaler.observe(s)
            if self.predictor is not None:
                self.predictor.observe(s.region, s.t, s.offered_qps, s.streams)
            self._last_sample[s.region] = s
            self._now = max(self._now, s.t)

    def decide(
        self, fencing_token: int, *, now: float | None = None, dry_run: bool = False
    ) -> TickPlan:
        t = self._now if now is None else now
        regions = self.regions
        reactive = {r: self.scaler.decide(r, t) for r in regions}
        predicted = {r: self._predict(r, t) for r in regions}
        wanted = {r: max(reactive[r].desired, self._usable(predicted[r])) for r in regions}
        allocation = self.capacity.allocate(wanted, t)
        decisions = tuple(
            self._decision(r, t, predicted[r], reactive[r], allocation, fencing_token, dry_run)
            for r in regions
        )
        for r in regions:
            self.scaler.set_current(r, allocation.desired[r])
        to_send = tuple(r for r in regions if self._sent.get(r) != allocation.desired[r])
        level = int(allocation.level)
        if self._planned_level != level:
            self._sequence += 1
            self._planned_level = level
        plan = DegradationPlan(
            actions=LADDER[allocation.level],
            reason=f"{allocation.pressure_source} pressure {allocation.pressure:.2f}",
            pressure=allocation.pressure,
            issued_at=t,
            sequence=self._sequence,
            fencing_token=fencing_token,
        )
        self.log.extend(decisions)
        if self.metrics is not None:
            self.metrics.record(
                decisions, int(allocation.level), allocation.pressure, allocation.budget
            )
        return TickPlan(
            t,
            fencing_token,
            dict(allocation.desired),
            to_send,
            decisions,
            allocation,
            plan,
            self._sent_level != level,
            dry_run,
        )

    async def act(
        self, plan: TickPlan, actuator: CapacityActuator, port: DegradationPort | None
    ) -> None:
        """Carry ``plan`` out; a failed region is retried next tick (it stays unsent)."""
        for region in plan.to_send:
            n = plan.desired[region]
            await actuator.set_desired(region, n, plan.fencing_token)
            self._sent[region] = n
        if plan.send_degradation and port is not None:
            await port.apply(plan.degradation)
        self._sent_level = int(plan.allocation.level)

    async def tick(
        self,
        samples: Iterable[RegionSample],
        fencing_token: int,
        actuator: CapacityActuator,
        port: DegradationPort | None = None,
        *,
        dry_run: bool = False,
    ) -> TickPlan:
        self.observe(samples)
        plan = self.decide(fencing_token, dry_run=dry_run)
        if not dry_run:
            await self.act(plan, actuator, port)
        return plan

    # -- decisions -----------------------------------------------------------------

    def _predict(self, region: str, t: float) -> Prediction | None:
        return None if self.predictor is None else self.predictor.predict(region, t)

    def _usable(self, p: Prediction | None) -> int:
        return 0 if p is None or p.confidence < self.min_confidence else p.instances

    def _decision(
        self,
        region: str,
        t: float,
        p: Prediction | None,
        rx: ReactiveDecision,
        allocation: Allocation,
        token: int,
        dry_run: bool,
    ) -> Decision:
        desired = allocation.desired[region]
        previous = rx.current
        usable = self._usable(p)
        if region in allocation.limited:
            reason = allocation.limited[region]
        elif desired == previous:
            reason = "hold"
        elif usable > rx.desired:
            reason = "predicted"
        else:
            reason = "panic" if rx.in_panic else "reactive"
        s = self._last_sample[region]
        return Decision(
            t=t,
            region=region,
            desired=desired,
            previous=previous,
            reason=reason,
            predicted=0 if p is None else p.instances,
            prediction_source="off" if p is None else p.source,
            confidence=0.0 if p is None else p.confidence,
            event_id=None if p is None else p.event_id,
            reactive=rx.desired,
            reactive_reason=rx.reason,
            in_panic=rx.in_panic,
            wanted=allocation.wanted[region],
            level=allocation.level.label,
            pressure=allocation.pressure,
            ready_instances=s.ready_instances,
            offered_qps=s.offered_qps,
            streams=s.streams,
            fencing_token=token,
            dry_run=dry_run,
        )

    # -- state ---------------------------------------------------------------------

    def export_state(self) -> dict[str, bytes]:
        capacity = dict(self.capacity.export_state(), sequence=self._sequence)
        return {
            STATE_KEYS[0]: self.scaler.export_state(),
            STATE_KEYS[1]: json.dumps(capacity).encode(),
        }

    def import_state(self, state: Mapping[str, bytes]) -> None:
        if STATE_KEYS[0] in state:
            self.scaler.import_state(state[STATE_KEYS[0]])
        if STATE_KEYS[1] in state:
            doc = json.loads(state[STATE_KEYS[1]])
            self.capacity.import_state(doc)
            self._sequence = int(doc.get("sequence", 0))

    def save(self, store: StateStore) -> None:
        for key, value in self.export_state().items():
            store.put(key, value)

    def restore(self, store: StateStore) -> bool:
        """Load saved state; False (and a conservative start) when there is none."""
        found = {k: v for k in STATE_KEYS if (v := store.get(k)) is not None}
        self.import_state(found)
        return bool(found)
