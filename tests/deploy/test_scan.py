"""Static scan of deploy/ with checkov (Kubernetes, Dockerfile and Terraform checks).

Offline, checkov reports no severities (they come from its vendor's service,
which ``--skip-download`` leaves alone), so the bar is stricter than "no HIGH
or CRITICAL": no failed check at all. A check that does not fit is skipped in
the file that it concerns, with its reason (``checkov:skip=ID:reason`` or a
``checkov.io/skipN`` annotation), and this test holds every skip to a reason.
"""

from __future__ import annotations

from typing import Any

import pytest

from .conftest import SCAN_FRAMEWORKS, scan_report

FRAMEWORKS = SCAN_FRAMEWORKS


@pytest.fixture(scope="module")
def reports() -> dict[str, dict[str, Any]]:
    parsed = scan_report()
    runs = parsed if isinstance(parsed, list) else [parsed]
    return {run["check_type"]: run for run in runs}


@pytest.mark.parametrize("framework", FRAMEWORKS)
def test_checkov_finds_no_failed_check(reports: dict[str, dict[str, Any]], framework: str) -> None:
    report = reports[framework]
    summary = report["summary"]
    assert summary["resource_count"] > 0 and summary["parsing_errors"] == 0, summary
    failed = [
        f"{c['check_id']} {c['file_path']} {c['resource']}: {c['check_name']}"
        for c in report["results"]["failed_checks"]
    ]
    assert failed == []


def test_every_skipped_check_says_why(reports: dict[str, dict[str, Any]]) -> None:
    for report in reports.values():
        for check in report["results"]["skipped_checks"]:
            reason = check.get("check_result", {}).get("suppress_comment", "")
            assert len(reason) > 20, check["check_id"]
