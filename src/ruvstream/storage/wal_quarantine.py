"""Moving damaged WAL segments aside, and remembering what was dropped.

``--wal-recovery truncate`` keeps every frame before the damage and moves
the damaged segment, and every later one, into ``wal/quarantine/<stamp>/``.
A segment is never rewritten in place: the original is hard-linked into
quarantine first, then a new file holding only the frames before the damage
replaces it under its name (an atomic rename), so a crash at any step
leaves every byte reachable. ``dropped.json`` beside the moved files says
which sequences were dropped; later starts read it, so the gap it leaves
is known, not mistaken for fresh loss.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Sequence
from pathlib import Path

from ruvstream.storage._fsync import fsync_path

__all__ = ["LEDGER", "QUARANTINE", "known_gaps", "quarantine"]

QUARANTINE = "quarantine"
LEDGER = "dropped.json"


def known_gaps(wal_dir: Path) -> list[tuple[int, int]]:
    """Inclusive sequence ranges dropped by earlier truncating recoveries."""
    gaps = []
    for ledger in sorted((wal_dir / QUARANTINE).glob(f"*/{LEDGER}")):
        try:
            entry = json.loads(ledger.read_text())
            gaps.append((int(entry["kept_through"]) + 1, int(entry["highest_seen"])))
        except (OSError, ValueError, KeyError, TypeError):
            continue  # an unreadable ledger explains nothing: its gap is reported again
    return gaps


def quarantine(
    wal_dir: Path,
    segments: Sequence[Path],
    first: int,
    offset: int,
    *,
    kept_through: int,
    highest_seen: int,
    reason: str,
) -> Path:
    """Move ``segments[first:]`` aside, keeping ``segments[first]``'s bytes before ``offset``."""
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    target = wal_dir / QUARANTINE / f"{stamp}-after-{kept_through}"
    target.mkdir(parents=True, exist_ok=True)
    moved = [path.name for path in segments[first:]]
    ledger = {
        "kept_through": kept_through,
        "highest_seen": max(highest_seen, kept_through),
        "damage": reason,
        "segments": moved,
    }
    (target / LEDGER).write_text(json.dumps(ledger, indent=2, sort_keys=True))
    damaged = segments[first]
    os.link(damaged, target / damaged.name)
    staging = wal_dir / f"tmp-{damaged.name}"
    with damaged.open("rb") as source:
        prefix = source.read(offset)
    with staging.open("wb") as out:
        out.write(prefix)
        out.flush()
        os.fsync(out.fileno())
    os.replace(staging, damaged)
    for later in segments[first + 1 :]:
        os.rename(later, target / later.name)
    fsync_path(target)
    fsync_path(wal_dir)
    return target
