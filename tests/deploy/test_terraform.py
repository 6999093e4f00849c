"""Terraform: formatted (``terraform fmt -check``), every file parses as HCL2, and the
layout covers the regions of ruvstream.geo with Cloud Run's limits respected."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import hcl2
import pytest

from ruvstream.geo import region_names

from .conftest import DEPLOY

TERRAFORM = DEPLOY / "terraform"
FILES = sorted([*TERRAFORM.rglob("*.tf"), *TERRAFORM.rglob("*.tfvars")])


def _parse(path: Path) -> dict[str, Any]:
    parsed: dict[str, Any] = hcl2.loads(path.read_text())
    return parsed


def _blocks(kind: str, directory: Path = TERRAFORM) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for path in sorted(directory.glob("*.tf")):
        for block in _parse(path).get(kind, []):
            for key, value in block.items():
                if kind == "resource":  # {type: {name: body}}: several of one type
                    found.setdefault(key, {}).update(value)
                else:
                    found[key] = value
    return found


def _unwrap(value: Any) -> Any:
    """python-hcl2 wraps single attribute values in a list."""
    return value[0] if isinstance(value, list) and len(value) == 1 else value


@pytest.mark.skipif(shutil.which("terraform") is None, reason="terraform is not installed")
def test_terraform_fmt_check_passes() -> None:
    result = subprocess.run(
        ["terraform", "fmt", "-check", "-recursive", "-diff", str(TERRAFORM)],
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "TF_CLI_CONFIG_FILE": os.devnull, "CHECKPOINT_DISABLE": "1"},
    )
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("path", FILES, ids=lambda p: str(p.relative_to(TERRAFORM)))
def test_every_file_parses_as_hcl2(path: Path) -> None:
    assert _parse(path)


def test_regions_default_to_the_fifteen_of_ruvstream_geo() -> None:
    regions = _unwrap(_blocks("variable")["regions"]["default"])
    assert regions == list(region_names())
    example = _parse(TERRAFORM / "example.tfvars")
    assert set(_unwrap(example["nats_urls"])) == set(region_names())


def test_every_root_variable_the_module_needs_is_passed() -> None:
    module_vars = set(_blocks("variable", TERRAFORM / "modules" / "region"))
    call = _blocks("module")["region"]
    passed = {k for k in call if k not in ("source", "for_each", "depends_on") and "__" not in k}
    required = {
        name
        for name, body in _blocks("variable", TERRAFORM / "modules" / "region").items()
        if "default" not in body
    } - {"__start_line__", "__end_line__"}
    assert required <= passed <= module_vars


def test_cloud_run_service_respects_platform_limits_and_hands_traffic_to_the_pipeline() -> None:
    module = _blocks("resource", TERRAFORM / "modules" / "region")
    service = module["google_cloud_run_v2_service"]["node"]
    template = _unwrap(service["template"])
    assert _unwrap(template["session_affinity"]) is True
    resources = _unwrap(_unwrap(template["containers"])["resources"])
    assert _unwrap(resources["startup_cpu_boost"]) is True
    assert _unwrap(resources["cpu_idle"]) is False
    assert _unwrap(service["ingress"]) == "INGRESS_TRAFFIC_INTERNAL_LOAD_BALANCER"
    ignored = _unwrap(_unwrap(service["lifecycle"])["ignore_changes"])
    assert "traffic" in " ".join(map(str, ignored))
    variables = _blocks("variable")
    assert _unwrap(variables["concurrency"]["default"]) == 1000
    assert _unwrap(variables["request_timeout_seconds"]["default"]) == 3600


def test_global_load_balancer_has_a_backend_per_region() -> None:
    resources = _blocks("resource")
    backend = resources["google_compute_backend_service"]["node"]
    assert _unwrap(backend["load_balancing_scheme"]) == "EXTERNAL_MANAGED"
    dynamic = _unwrap(backend["dynamic"])["backend"]
    assert _unwrap(dynamic["for_each"]) == "${module.region}"
    rule = resources["google_compute_global_forwarding_rule"]["https"]
    assert _unwrap(rule["port_range"]) == "443"
