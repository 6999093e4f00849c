"""scripts/bootstrap in any order and twice at once, offline.

The script runs for real against a scratch copy of the repository; the
``python3`` it finds on PATH is a stand-in whose venv records each pip
install instead of downloading, and notes when two installs overlap.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

STUB_PYTHON = """#!/usr/bin/env bash
set -euo pipefail
if [ "$1 $2" = "-m venv" ]; then
  mkdir -p "$3/bin" && cp "$0" "$3/bin/python"
  exit 0
fi
if [ "$1 $2" = "-m pip" ]; then
  if mkdir "$STUB_LOG.busy" 2>/dev/null; then mine=1; else mine=0; echo overlap >> "$STUB_LOG"; fi
  echo "pip ${*:3}" >> "$STUB_LOG"
  sleep 0.3  # an install takes a while: long enough for a second one to collide
  if [ "$mine" = 1 ]; then rmdir "$STUB_LOG.busy"; fi
  exit 0
fi
echo "unexpected: $*" >&2
exit 1
"""


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """A scratch checkout: the real bootstrap script and pyproject.toml, no .venv."""
    (tmp_path / "repo" / "scripts").mkdir(parents=True)
    shutil.copy2(ROOT / "scripts" / "bootstrap", tmp_path / "repo" / "scripts" / "bootstrap")
    shutil.copy2(ROOT / "pyproject.toml", tmp_path / "repo" / "pyproject.toml")
    stub = tmp_path / "bin" / "python3"
    stub.parent.mkdir()
    stub.write_text(STUB_PYTHON)
    stub.chmod(0o755)
    return tmp_path / "repo"


def _env(repo: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHON", "VIRTUAL_ENV")}
    env["PATH"] = f"{repo.parent / 'bin'}:/usr/bin:/bin"
    env["STUB_LOG"] = str(repo.parent / "pip.log")
    return env


def _bootstrap(repo: Path, *extras: str) -> list[subprocess.Popen[bytes]]:
    """Start one bootstrap per extras set, all at once."""
    script = str(repo / "scripts" / "bootstrap")
    return [subprocess.Popen([script, extra], env=_env(repo)) for extra in extras]


def _installs(repo: Path) -> list[str]:
    log = repo.parent / "pip.log"
    return log.read_text().splitlines() if log.exists() else []


@pytest.mark.parametrize("extras", [("glove", "dev"), ("dev", "dev")])
def test_two_bootstraps_at_once_both_succeed_and_install_each_set_once(
    repo: Path, extras: tuple[str, ...]
) -> None:
    runs = _bootstrap(repo, *extras)
    assert [run.wait(timeout=60) for run in runs] == [0, 0]
    wanted = sorted({f"pip install -q -e .[{extra}]" for extra in extras})
    assert sorted(_installs(repo)) == sorted(["pip install -q --upgrade pip", *wanted])


def test_serve_then_test_installs_both_sets_and_a_rerun_installs_nothing(repo: Path) -> None:
    for extra in ("glove", "dev", "glove", "dev"):
        (run,) = _bootstrap(repo, extra)
        assert run.wait(timeout=60) == 0
    assert _installs(repo) == [
        "pip install -q --upgrade pip",
        "pip install -q -e .[glove]",
        "pip install -q -e .[dev]",
    ]


def test_a_changed_pyproject_installs_the_set_again(repo: Path) -> None:
    (run,) = _bootstrap(repo, "dev")
    assert run.wait(timeout=60) == 0
    later = (repo / ".venv" / ".ruvstream-installed-dev").stat().st_mtime + 60
    os.utime(repo / "pyproject.toml", (later, later))  # edited after the install
    (run,) = _bootstrap(repo, "dev")
    assert run.wait(timeout=60) == 0
    assert _installs(repo).count("pip install -q -e .[dev]") == 2
