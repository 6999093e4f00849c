"""The benchmark suite: open-loop load, scenarios, HDR latency, analysis, dashboard.

Public entry points: ``run``/``execute`` with a ``RunConfig`` to drive a
scenario against a node or a ``RegionalDeployment`` (regions behind a
router, with failures injected on the scenario's timeline), the
``SCENARIOS`` library, dataset loaders, and the analysis and report
functions that work on a stored ``result.json``.
The command line is ``ruvstream bench`` (``ruvstream.bench.cli:bench``).
"""

from ruvstream.bench.analysis import analyze, compare
from ruvstream.bench.datasets import DATASETS, Dataset
from ruvstream.bench.datasets import load as load_dataset
from ruvstream.bench.deployment import RegionalDeployment
from ruvstream.bench.failures import FailureInjector, plan_failures
from ruvstream.bench.histograms import LatencyBook, Timeline
from ruvstream.bench.loadgen import LoadGenerator, LoadResult, Workload
from ruvstream.bench.patterns import QueryPicker, arrivals
from ruvstream.bench.report import load_result, to_markdown, write_outputs
from ruvstream.bench.runner import Deployment, RunConfig, ScenarioUnavailableError, execute, run
from ruvstream.bench.scenarios import SCENARIOS, SLA, LocalScale, LocalShape, Scenario, Stage
from ruvstream.bench.streams import StreamPool

__all__ = [
    "DATASETS",
    "SCENARIOS",
    "SLA",
    "Dataset",
    "Deployment",
    "FailureInjector",
    "LatencyBook",
    "LoadGenerator",
    "LoadResult",
    "LocalScale",
    "LocalShape",
    "QueryPicker",
    "RegionalDeployment",
    "RunConfig",
    "Scenario",
    "ScenarioUnavailableError",
    "Stage",
    "StreamPool",
    "Timeline",
    "Workload",
    "analyze",
    "arrivals",
    "compare",
    "execute",
    "load_dataset",
    "load_result",
    "plan_failures",
    "run",
    "to_markdown",
    "write_outputs",
]
