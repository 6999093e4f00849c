"""Starting a new node from a peer's snapshot plus the stream after it.

A new node in a region does not replay the whole stream (which may be
trimmed): it installs a snapshot of a peer (fetched from the peer's
``/v1/replication/snapshot`` or copied from shared storage) into an empty
data dir, then starts normally. The snapshot's ``extras["replication"]``
carries the peer's applied stream position, so the new node's consumer
starts right after it; ops the peer had applied out of that order arrive
again and are no-ops under last-writer-wins.

The installed snapshot is renumbered to cover WAL sequence 0: the peer's WAL
numbers mean nothing here, and the new node's own WAL starts at 1, so every
entry it logs is replayed after this snapshot.
"""

from __future__ import annotations

import json
import os
import shutil
import tarfile
import tempfile
from pathlib import Path

import httpx

__all__ = ["bootstrap_from_peer", "install_snapshot"]

MANIFEST = "manifest.json"
_INSTALLED = "snap-00000000000000000000-bootstrap"


def _is_empty(data_dir: Path) -> bool:
    snapshots = data_dir / "snapshots"
    wal = data_dir / "wal"
    return not (
        (snapshots.exists() and any(snapshots.glob("snap-*")))
        or (wal.exists() and any(p.stat().st_size for p in wal.glob("wal-*.log")))
    )


def install_snapshot(snapshot_dir: Path, data_dir: Path) -> Path:
    """Copy a snapshot directory into an empty node data dir; returns its new path."""
    manifest_path = snapshot_dir / MANIFEST
    if not manifest_path.exists():
        raise ValueError(f"{snapshot_dir} is not a snapshot (no {MANIFEST})")
    if not _is_empty(data_dir):
        raise ValueError(f"{data_dir} already holds data; bootstrap needs an empty data dir")
    target_root = data_dir / "snapshots"
    target_root.mkdir(parents=True, exist_ok=True)
    staging = target_root / "tmp-bootstrap"
    shutil.rmtree(staging, ignore_errors=True)
    shutil.copytree(snapshot_dir, staging)
    manifest = json.loads(manifest_path.read_text())
    manifest["seq"] = 0
    (staging / MANIFEST).write_text(json.dumps(manifest, sort_keys=True))
    final = target_root / _INSTALLED
    os.rename(staging, final)
    return final


def bootstrap_from_peer(
    peer_url: str, data_dir: Path, *, timeout: float = 60.0, api_key: str | None = None
) -> Path:
    """Fetch a fresh snapshot from a running peer and install it into ``data_dir``.

    A peer that asks for keys needs ``api_key``: an admin key of every collection.
    """
    if not _is_empty(data_dir):
        raise ValueError(f"{data_dir} already holds data; bootstrap needs an empty data dir")
    data_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=data_dir, prefix="bootstrap-") as scratch:
        archive = Path(scratch) / "snapshot.tar"
        url = peer_url.rstrip("/") + "/v1/replication/snapshot"
        headers = {"Authorization": f"Bearer {api_key}"} if api_key else None
        with (
            httpx.stream("GET", url, timeout=timeout, headers=headers) as response,
            archive.open("wb") as out,
        ):
            response.raise_for_status()
            for chunk in response.iter_bytes():
                out.write(chunk)
        unpacked = Path(scratch) / "snapshot"
        with tarfile.open(archive) as tar:
            tar.extractall(unpacked, filter="data")
        return install_snapshot(unpacked, data_dir)
