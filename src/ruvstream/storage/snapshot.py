"""Snapshot directories: written aside, published by an atomic rename.

``snapshots/snap-<seq>/`` holds ``manifest.json`` plus whatever the node
wrote into it; ``<seq>`` is the WAL sequence the snapshot covers (replay
resumes after it). A crash mid-snapshot leaves only a ``tmp-`` directory,
which the next start removes: the previous snapshot stays the latest.
"""

from __future__ import annotations

import json
import os
import shutil
import uuid
from pathlib import Path
from typing import Any

__all__ = ["SnapshotStore"]

MANIFEST = "manifest.json"


class SnapshotStore:
    def __init__(self, directory: Path, *, keep: int = 2) -> None:
        self.directory = directory
        self.keep = keep
        directory.mkdir(parents=True, exist_ok=True)
        for leftover in directory.glob("tmp-*"):
            shutil.rmtree(leftover, ignore_errors=True)

    def begin(self) -> Path:
        path = self.directory / f"tmp-{uuid.uuid4().hex}"
        path.mkdir()
        return path

    def commit(self, staging: Path, seq: int, manifest: dict[str, Any]) -> Path:
        manifest = {**manifest, "seq": seq}
        (staging / MANIFEST).write_text(json.dumps(manifest, sort_keys=True))
        _fsync_tree(staging)
        final = self.directory / f"snap-{seq:020d}-{uuid.uuid4().hex[:8]}"
        os.rename(staging, final)
        _fsync(self.directory)
        self._prune()
        return final

    def abort(self, staging: Path) -> None:
        shutil.rmtree(staging, ignore_errors=True)

    def snapshots(self) -> list[Path]:
        return sorted(p for p in self.directory.glob("snap-*") if (p / MANIFEST).exists())

    def latest(self) -> tuple[Path, dict[str, Any]] | None:
        for path in reversed(self.snapshots()):
            try:
                return path, json.loads((path / MANIFEST).read_text())
            except (OSError, ValueError):
                continue
        return None

    def _prune(self) -> None:
        for old in self.snapshots()[: -self.keep]:
            shutil.rmtree(old, ignore_errors=True)


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _fsync_tree(root: Path) -> None:
    for path in sorted(root.rglob("*"), reverse=True):
        _fsync(path)
    _fsync(root)
