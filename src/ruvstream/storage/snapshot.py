"""Snapshot directories: written aside, published by an atomic rename.

``snapshots/snap-<seq>/`` holds ``manifest.json`` plus whatever the node
wrote into it; ``<seq>`` is the WAL sequence the snapshot covers (replay
resumes after it). A crash mid-snapshot leaves only a ``tmp-`` directory,
which the next start removes: the previous snapshot stays the latest.

Every snapshot is checked before it is trusted: the manifest lists each
file's size and SHA-256, and carries a checksum of its own content (all but
``seq``, which a peer's snapshot is renumbered to on install; ``seq`` must
match the directory name instead). ``usable`` yields the snapshots that
pass, newest first, and moves each damaged one into ``quarantine/`` with a
loud log line, so it is neither loaded nor counted among those retained.
A manifest without a checksum (written before checksums) is trusted, with
a warning.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from ruvstream.storage._fsync import fsync_path

__all__ = ["SnapshotDamageError", "SnapshotStore", "verify_snapshot"]

MANIFEST = "manifest.json"
QUARANTINE = "quarantine"
log = logging.getLogger(__name__)


class SnapshotDamageError(RuntimeError):
    """A snapshot whose manifest or files do not match what was written."""


def _digest(path: Path) -> str:
    with path.open("rb") as f:
        return hashlib.file_digest(f, "sha256").hexdigest()


def _manifest_checksum(manifest: dict[str, Any]) -> str:
    body = {k: v for k, v in manifest.items() if k not in ("checksum", "seq")}
    return hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()


def _seq_of(path: Path) -> int:
    return int(path.name.split("-")[1])


def _file_table(root: Path) -> dict[str, dict[str, Any]]:
    return {
        path.relative_to(root).as_posix(): {"bytes": path.stat().st_size, "sha256": _digest(path)}
        for path in sorted(root.rglob("*"))
        if path.is_file() and path.name != MANIFEST
    }


def verify_snapshot(path: Path) -> dict[str, Any]:
    """The manifest of the snapshot at ``path``; raises ``SnapshotDamageError``
    naming the first thing that does not match."""
    try:
        manifest = json.loads((path / MANIFEST).read_text())
    except (OSError, ValueError) as exc:
        raise SnapshotDamageError(f"{MANIFEST} unreadable ({exc})") from None
    if not isinstance(manifest, dict):
        raise SnapshotDamageError(f"{MANIFEST} is not an object")
    if "checksum" not in manifest:
        log.warning("snapshot %s has no checksums (written by an older version)", path.name)
        return manifest
    if manifest["checksum"] != _manifest_checksum(manifest):
        raise SnapshotDamageError(f"{MANIFEST} checksum does not match its content")
    if manifest.get("seq") != _seq_of(path):
        raise SnapshotDamageError(f"{MANIFEST} seq {manifest.get('seq')!r} is not the directory's")
    for name, expected in manifest.get("files", {}).items():
        file = path / name
        if not file.is_file():
            raise SnapshotDamageError(f"{name} is missing")
        if file.stat().st_size != expected["bytes"]:
            raise SnapshotDamageError(
                f"{name} holds {file.stat().st_size} bytes, not {expected['bytes']}"
            )
        if _digest(file) != expected["sha256"]:
            raise SnapshotDamageError(f"{name} checksum does not match")
    return manifest


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
        manifest = {**manifest, "seq": seq, "files": _file_table(staging)}
        manifest["checksum"] = _manifest_checksum(manifest)
        (staging / MANIFEST).write_text(json.dumps(manifest, sort_keys=True))
        _fsync_tree(staging)
        # Snapshots of one seq sort in the order they were made (a random suffix let
        # the newest sort first and be pruned as it was made).
        final = self.directory / f"snap-{seq:020d}-{time.time_ns():020d}"
        os.rename(staging, final)
        fsync_path(self.directory)
        self._prune(final)
        return final

    def abort(self, staging: Path) -> None:
        shutil.rmtree(staging, ignore_errors=True)

    def snapshots(self) -> list[Path]:
        return sorted(
            p
            for p in self.directory.glob("snap-*")
            if p.name.split("-")[1].isdigit() and (p / MANIFEST).exists()
        )

    def retained_seqs(self) -> list[int]:
        """The sequence each retained snapshot covers, oldest first."""
        return sorted(_seq_of(path) for path in self.snapshots())

    def usable(self) -> Iterator[tuple[Path, dict[str, Any]]]:
        """Snapshots that pass their checks, newest first; damaged ones go aside."""
        for path in reversed(self.snapshots()):
            try:
                manifest = verify_snapshot(path)
            except SnapshotDamageError as exc:
                self.set_aside(path, str(exc))
                continue
            yield path, manifest

    def latest(self) -> tuple[Path, dict[str, Any]] | None:
        return next(self.usable(), None)

    def set_aside(self, path: Path, reason: str) -> Path:
        """Move a damaged snapshot into ``quarantine/`` (kept whole, never loaded again)."""
        target = self.directory / QUARANTINE / path.name
        target.parent.mkdir(exist_ok=True)
        os.rename(path, target)
        fsync_path(self.directory)
        log.error(
            "snapshot %s is damaged (%s): moved to %s; falling back to an older one",
            path.name,
            reason,
            target,
        )
        return target

    def _prune(self, newest: Path) -> None:
        """Keep ``newest`` and the ``keep - 1`` latest others."""
        others = [path for path in self.snapshots() if path != newest]
        for old in others[: max(len(others) - (self.keep - 1), 0)]:
            shutil.rmtree(old, ignore_errors=True)


def _fsync_tree(root: Path) -> None:
    for path in sorted(root.rglob("*"), reverse=True):
        fsync_path(path)
    fsync_path(root)
