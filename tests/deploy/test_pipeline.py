"""The canary pipeline: the Cloud Build step graph, the health gate against a live
node, and the rollback path of canary.sh.

gcloud cannot reach Cloud Run from here, so canary.sh runs against a stand-in
``gcloud`` on PATH that records its arguments and describes a service whose
canary tag URL is a live node: the gate and the node are real, and the test
sees which traffic commands a passing and a failing gate lead to.
"""

from __future__ import annotations

import importlib.util
import itertools
import os
import re
import socket
import stat
import subprocess
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
import yaml

from .conftest import DEPLOY, ROOT, LiveStack

PIPELINE = DEPLOY / "pipeline"
STEPS_AFTER_DEPLOY = [f"{kind}-{p}" for p in (5, 25, 50, 100) for kind in ("shift", "gate")]
_BUILTINS = {"PROJECT_ID", "COMMIT_SHA", "SHORT_SHA", "BUILD_ID", "REPO_NAME", "BRANCH_NAME"}


def _gate() -> ModuleType:
    name = "ruvstream_deploy_health_gate"
    spec = importlib.util.spec_from_file_location(name, PIPELINE / "health_gate.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def _build() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load((PIPELINE / "cloudbuild.yaml").read_text())
    return loaded


def test_steps_form_a_graph_in_canary_order() -> None:
    steps = _build()["steps"]
    ids = [s["id"] for s in steps]
    assert len(ids) == len(set(ids))
    for position, step in enumerate(steps):
        for dependency in step.get("waitFor", []):
            assert dependency == "-" or dependency in ids[:position], step["id"]
    assert ids[: ids.index("deploy-no-traffic") + 1] == [
        "test",
        "build",
        "push",
        "record-stable",
        "deploy-no-traffic",
    ]
    assert ids[ids.index("deploy-no-traffic") + 1 :] == [*STEPS_AFTER_DEPLOY, "promote"]
    chain = ["deploy-no-traffic", *STEPS_AFTER_DEPLOY, "promote"]
    by_id = {s["id"]: s for s in steps}
    for before, after in itertools.pairwise(chain):
        assert by_id[after]["waitFor"] == [before]
    deploy = by_id["deploy-no-traffic"]["args"]
    assert "--no-traffic" in deploy and "--tag=canary" in deploy
    assert {"test", "build"} == set(by_id["push"]["waitFor"])


def test_substitutions_are_declared_and_scripts_exist() -> None:
    build = _build()
    text = (PIPELINE / "cloudbuild.yaml").read_text()
    used = set(re.findall(r"\$\{([A-Z_]+)\}", text))
    assert used - _BUILTINS <= set(build["substitutions"])
    assert all(name.startswith("_") for name in build["substitutions"])
    for step in build["steps"]:
        for arg in step.get("args", []):
            if arg.endswith((".sh", ".py")):
                assert (ROOT / arg).is_file(), arg


def test_gate_arithmetic_on_an_exposition() -> None:
    gate = _gate()
    text = "\n".join(
        [
            "# TYPE ruvstream_http_requests_total counter",
            'ruvstream_http_requests_total{route="/x",method="GET",status="200"} 98.0',
            'ruvstream_http_requests_total{route="/x",method="GET",status="503"} 2.0',
            'ruvstream_search_latency_seconds_bucket{le="0.01"} 90.0',
            'ruvstream_search_latency_seconds_bucket{le="0.05"} 99.0',
            'ruvstream_search_latency_seconds_bucket{le="0.1"} 100.0',
            'ruvstream_search_latency_seconds_bucket{le="+Inf"} 100.0',
        ]
    )
    samples = gate.parse_exposition(text)
    assert gate.error_ratio(samples) == (2.0, 100.0)
    assert gate.histogram_quantile(samples, "ruvstream_search_latency_seconds", 0.99) == (
        0.05,
        100.0,
    )
    ok = {"status": "ok"}
    assert gate.judge(200, ok, text, gate.Limits(0.05, 0.05, 20)) == []
    assert "5xx ratio" in gate.judge(200, ok, text, gate.Limits(0.01, 0.05, 20))[0]
    assert "search p99" in gate.judge(200, ok, text, gate.Limits(0.05, 0.01, 20))[0]
    # Too few requests to judge a ratio or a p99: only health counts.
    assert gate.judge(200, ok, text, gate.Limits(0.0, 0.0, 1000)) == []
    assert gate.judge(503, {}, "", gate.Limits()) == ["/health answered 503"]
    assert gate.judge(200, {"status": "degraded"}, "", gate.Limits()) == ["/health says 'degraded'"]


@pytest.mark.nats
def test_gate_on_a_live_node(live_stack: LiveStack) -> None:
    script = str(PIPELINE / "health_gate.py")
    base = [
        sys.executable,
        script,
        "--url",
        live_stack.east.url,
        "--samples",
        "2",
        "--interval",
        "0",
    ]
    passing = subprocess.run(base, capture_output=True, text=True, check=False)
    assert passing.returncode == 0, passing.stdout
    # Any real search takes more than 0 s: a zero p99 budget fails the gate.
    failing = subprocess.run(
        [*base, "--max-search-p99", "0", "--min-requests", "1"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert failing.returncode == 1 and "search p99" in failing.stdout


_FAKE_GCLOUD = """#!{python}
import json, os, sys
with open(os.environ["GCLOUD_LOG"], "a") as log:
    log.write(" ".join(sys.argv[1:]) + "\\n")
if sys.argv[1:4] == ["run", "services", "describe"]:
    print(json.dumps({{"status": {{"traffic": [
        {{"revisionName": "ruvstream-node-00041-old", "percent": 100}},
        {{"revisionName": "ruvstream-node-00042-new", "percent": 0, "tag": "canary",
          "url": os.environ["CANARY_URL"]}},
    ]}}}}))
"""


def _run_canary(tmp_path: Path, url: str, gate_args: str, *steps: list[str]) -> list[str]:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir(exist_ok=True)
    fake = bin_dir / "gcloud"
    fake.write_text(_FAKE_GCLOUD.format(python=sys.executable))
    fake.chmod(fake.stat().st_mode | stat.S_IEXEC)
    python = bin_dir / "python3"
    if not python.exists():
        python.symlink_to(sys.executable)
    log = tmp_path / "gcloud.log"
    env = {
        **os.environ,
        "PATH": f"{bin_dir}:{os.environ['PATH']}",
        "SERVICE": "ruvstream-node",
        "REGION": "us-central1",
        "STATE_DIR": str(tmp_path),
        "GATE_ARGS": gate_args,
        "GCLOUD_LOG": str(log),
        "CANARY_URL": url,
    }
    codes = []
    for step in steps:
        result = subprocess.run(
            ["bash", str(PIPELINE / "canary.sh"), *step],
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
        codes.append(result.returncode)
        if result.returncode:
            break
    return [*map(str, codes), *log.read_text().splitlines()]


@pytest.mark.nats
def test_canary_walks_every_step_when_the_gate_passes(
    tmp_path: Path, live_stack: LiveStack
) -> None:
    steps = [["record-stable"]] + [s.split("-") for s in STEPS_AFTER_DEPLOY] + [["promote"]]
    out = _run_canary(tmp_path, live_stack.east.url, "--samples 1 --interval 0", *steps)
    assert out[: len(steps)] == ["0"] * len(steps)
    shifts = [line for line in out if "--to-tags=canary=" in line]
    assert [s.rsplit("=", 1)[1] for s in shifts] == ["5", "25", "50", "100"]
    assert not any("--to-revisions" in line for line in out)
    assert (tmp_path / "stable-revision").read_text().strip() == "ruvstream-node-00041-old"


@pytest.mark.nats
def test_canary_rolls_back_to_the_stable_revision_when_the_gate_fails(
    tmp_path: Path, live_stack: LiveStack
) -> None:
    failing_gate = "--samples 1 --max-search-p99 0 --min-requests 1"
    out = _run_canary(
        tmp_path,
        live_stack.east.url,
        failing_gate,
        ["record-stable"],
        ["shift", "5"],
        ["gate", "5"],
        ["shift", "25"],
    )
    assert out[:3] == ["0", "0", "1"]  # the build stops at the failed gate
    assert any("--to-revisions=ruvstream-node-00041-old=100" in line for line in out)
    assert any("--remove-tags=canary" in line for line in out)
    assert not any("canary=25" in line for line in out)


def test_gate_fails_on_an_unreachable_revision() -> None:
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    result = subprocess.run(
        [
            sys.executable,
            str(PIPELINE / "health_gate.py"),
            "--url",
            f"http://127.0.0.1:{port}",
            "--samples",
            "1",
            "--timeout",
            "2",
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 1 and "unreachable" in result.stdout
