"""The scripts in deploy/: Python lint-clean like the rest of the project (the
project lint covers src, tests and scripts only), shell scripts parse."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from .conftest import DEPLOY, ROOT

PYTHON = sorted(DEPLOY.rglob("*.py"))
SHELL = sorted(DEPLOY.rglob("*.sh"))


def _ruff() -> str:
    ruff = shutil.which("ruff", path=str(Path(sys.executable).parent))
    assert ruff, "ruff is in the dev extra"
    return ruff


def test_python_in_deploy_is_ruff_clean() -> None:
    paths = [str(p) for p in PYTHON]
    for command in (["check", *paths], ["format", "--check", *paths]):
        result = subprocess.run(
            [_ruff(), *command], cwd=ROOT, capture_output=True, text=True, check=False
        )
        assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("script", SHELL, ids=lambda p: p.name)
def test_shell_script_parses_and_is_executable(script: Path) -> None:
    shell = "sh" if script.read_text().startswith("#!/bin/sh") else "bash"
    subprocess.run([shell, "-n", str(script)], check=True)
    assert script.stat().st_mode & 0o111
