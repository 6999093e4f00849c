"""The published contract is the real one: /openapi.json against a real node.

A bounded schemathesis run (every check, every phase, a fixed seed, one
worker, a few dozen cases per operation) must find nothing; the one rule a
static schema cannot state (a vector's length is its collection's ``dim``)
is the only allowance, see ``contract_checks.py``. Starlette's own 404 and
405 answer the JSON error body, and a 405 names every method of its path.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from ruvstream.api.openapi import OPENAPI
from ruvstream.testing import NodeProcess, running_node

ROOT = Path(__file__).resolve().parents[2]
SEED = 1
EXAMPLES = 15
DIM = 4


@pytest.fixture(scope="module")
def contract_node(tmp_path_factory: pytest.TempPathFactory) -> Iterator[NodeProcess]:
    with running_node(tmp_path_factory.mktemp("contract")) as node:
        with httpx.Client(base_url=node.url, timeout=60) as http:
            assert http.put("/v1/collections/c", json={"dim": DIM}).status_code == 201
            records = [{"id": f"r{i}", "vector": [i, 1, 0, 0]} for i in range(10)]
            assert http.post("/v1/collections/c/records", json={"records": records}).is_success
        yield node


def test_the_node_serves_the_published_document(contract_node: NodeProcess) -> None:
    with httpx.Client(base_url=contract_node.url, timeout=30) as http:
        assert http.get("/openapi.json").json() == OPENAPI


def test_unknown_paths_and_methods_answer_the_json_error_body(contract_node: NodeProcess) -> None:
    with httpx.Client(base_url=contract_node.url, timeout=30) as http:
        missing = http.get("/v1/nothing-here")
        assert missing.status_code == 404
        assert missing.headers["content-type"] == "application/json"
        assert missing.json()["error"]["code"] == "not_found"
        refused = http.post("/v1/collections/c")
        assert refused.status_code == 405
        assert refused.json()["error"]["code"] == "method_not_allowed"
        assert set(refused.json()["error"]["details"]["allow"]) >= {"GET", "PUT", "DELETE"}
        allow = {m.strip() for m in refused.headers["allow"].split(",")}
        assert allow >= {"GET", "PUT", "DELETE"}
        record = http.request("OPTIONS", "/v1/collections/c/records/r1")
        assert record.status_code == 405
        assert {m.strip() for m in record.headers["allow"].split(",")} >= {"GET", "DELETE"}
        plain = http.get("/v1/ws")
        assert plain.status_code == 426
        assert plain.json()["error"]["code"] == "upgrade_required"


@pytest.mark.slow
@pytest.mark.timeout(600)
def test_a_bounded_schemathesis_run_finds_nothing(
    contract_node: NodeProcess, tmp_path: Path
) -> None:
    command = [
        *(sys.executable, "-m", "schemathesis.cli", "run", f"{contract_node.url}/openapi.json"),
        *("--checks", "all", "--exclude-checks", "positive_data_acceptance"),
        *("--max-examples", str(EXAMPLES), "--seed", str(SEED), "--workers", "1"),
        *("--request-timeout", "30", "--no-color"),
    ]
    env = {
        **os.environ,
        "SCHEMATHESIS_HOOKS": "tests.node.contract_checks",
        "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
    }
    done = subprocess.run(
        command, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=540, check=False
    )
    report = done.stdout[-6000:] + done.stderr[-2000:]
    assert done.returncode == 0, report
    assert "positive_data_acceptance_but_dim" not in report
    with httpx.Client(base_url=contract_node.url, timeout=30) as http:
        assert http.get("/health").json()["status"] == "ok"
