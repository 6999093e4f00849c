"""Where a local cluster keeps its data and the file that says where its nodes listen.

By default under the user's state directory (``$XDG_STATE_HOME/ruvstream``,
else ``~/.local/state/ruvstream``), so ``ruvstream cluster status`` finds
the cluster from any working directory. The state file is written whole
and renamed into place: a reader never sees half of it.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

__all__ = ["STATE_FILE", "default_base_dir", "read_state", "write_state"]

STATE_FILE = "cluster.json"


def default_base_dir() -> Path:
    """The cluster's home when ``--dir`` is not given: per user, not per working directory."""
    root = os.environ.get("XDG_STATE_HOME") or Path.home() / ".local" / "state"
    return Path(root) / "ruvstream" / "cluster"


def write_state(path: Path, state: dict[str, Any]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    staging = path.with_name(path.name + ".tmp")
    staging.write_text(json.dumps(state, indent=2))
    staging.replace(path)
    return path


def read_state(path: Path) -> dict[str, Any]:
    state: dict[str, Any] = json.loads(path.read_text())
    return state
