"""The burst-scaling benchmark: ``ruvstream bench scaling`` or ``python -m``.

- ``compare``: reactive-only against predictive + reactive on the same
  seeded bursty traces (``bursty_trace``), SLO-violation seconds and cost;
- ``evaluate``: forecast accuracy (sMAPE, MASE) of Holt-Winters against
  seasonal-naive on real utilisation traces from the ``[traces]`` extra.
"""

from .accuracy import AccuracyRow, evaluate
from .compare import BAR_COST_RATIO, BAR_VIOLATION_RATIO, ComparisonRow, compare
from .traces import SCENARIOS, BurstTrace, bursty_trace

__all__ = [
    "BAR_COST_RATIO",
    "BAR_VIOLATION_RATIO",
    "SCENARIOS",
    "AccuracyRow",
    "BurstTrace",
    "ComparisonRow",
    "bursty_trace",
    "compare",
    "evaluate",
]
