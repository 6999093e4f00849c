"""``ruvstream wal verify DATA_DIR``: what a node's WAL and snapshots hold, read-only.

Per segment: frames, first and last sequence, sequence gaps, damage (byte
offset and why). The verdict is the one a start of the node would reach
(``wal_scan.find_trouble`` after the newest snapshot that passes its checks):
``ok``, ``torn-tail`` (cut at the next start, nothing acknowledged lost) or
``damaged`` (the node refuses to start in strict mode). Exit status 1 when
damaged, so scripts can gate a restart on it. Nothing on disk is changed.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from ruvstream.storage.snapshot import SnapshotDamageError, verify_snapshot
from ruvstream.storage.wal_quarantine import known_gaps
from ruvstream.storage.wal_scan import SegmentReport, find_trouble, scan_segment

__all__ = ["verify_data_dir", "wal"]


@click.group()
def wal() -> None:
    """Inspect a node's write-ahead log."""


def _snapshots(data_dir: Path) -> list[dict[str, Any]]:
    directory = data_dir / "snapshots"
    paths = sorted(
        p for p in directory.glob("snap-*") if p.is_dir() and p.name.split("-")[1].isdigit()
    )
    found = []
    for path in reversed(paths):
        entry: dict[str, Any] = {"name": path.name, "ok": True, "problem": None}
        try:
            entry["seq"] = int(verify_snapshot(path)["seq"])
        except SnapshotDamageError as exc:
            entry.update(ok=False, problem=str(exc), seq=int(path.name.split("-")[1]))
        found.append(entry)
    return found


def _gaps(reports: list[SegmentReport], known: list[tuple[int, int]]) -> dict[str, list[Any]]:
    """Per segment, the sequence ranges missing just before its frames."""
    gaps: dict[str, list[Any]] = {}
    previous: int | None = None
    for report in reports:
        for _, seq in report.seqs:
            if previous is not None and seq > previous + 1:
                low, high = previous + 1, seq - 1
                quarantined = any(a <= low and high <= b for a, b in known)
                gaps.setdefault(report.name, []).append(
                    {"first": low, "last": high, "quarantined": quarantined}
                )
            previous = seq if previous is None else max(previous, seq)
    return gaps


def verify_data_dir(data_dir: Path) -> dict[str, Any]:
    """The whole report as plain data (what ``--json`` prints)."""
    wal_dir = data_dir / "wal"
    paths = sorted(wal_dir.glob("wal-*.log")) if wal_dir.exists() else []
    reports = [scan_segment(path.name, path.read_bytes()) for path in paths]
    known = known_gaps(wal_dir)
    snapshots = _snapshots(data_dir)
    base = next((s["seq"] for s in snapshots if s["ok"]), 0)
    trouble = find_trouble(reports, base, known)
    gaps = _gaps(reports, known)
    verdict = "ok" if trouble is None else "torn-tail" if trouble.torn else "damaged"
    return {
        "data_dir": str(data_dir),
        "verdict": verdict,
        "problem": None
        if trouble is None
        else f"{wal_dir / trouble.name} at byte {trouble.offset}: {trouble.reason}",
        "replay_after_seq": base,
        "segments": [
            {
                "name": r.name,
                "bytes": r.size,
                "frames": r.frames,
                "first_seq": r.first_seq,
                "last_seq": r.last_seq,
                "gaps": gaps.get(r.name, []),
                "damage": [
                    {"offset": d.offset, "end": d.end, "reason": d.reason} for d in r.damage
                ],
            }
            for r in reports
        ],
        "snapshots": snapshots,
        "quarantined_gaps": [list(gap) for gap in known],
    }


def _render(report: dict[str, Any]) -> list[str]:
    lines = [f"{report['data_dir']}: {report['verdict']}"]
    if report["problem"]:
        lines.append(f"  first problem: {report['problem']}")
    for s in report["segments"]:
        span = f"seq {s['first_seq']}..{s['last_seq']}" if s["frames"] else "no frames"
        lines.append(f"  {s['name']}  {s['bytes']} bytes  {s['frames']} frames  {span}")
        for gap in s["gaps"]:
            note = " (quarantined earlier)" if gap["quarantined"] else ""
            lines.append(f"    gap: entries {gap['first']}..{gap['last']} missing{note}")
        for d in s["damage"]:
            lines.append(f"    damage at byte {d['offset']}..{d['end']}: {d['reason']}")
    for snap in report["snapshots"]:
        state = "ok" if snap["ok"] else f"damaged: {snap['problem']}"
        lines.append(f"  snapshot {snap['name']}  seq {snap['seq']}  {state}")
    for low, high in report["quarantined_gaps"]:
        lines.append(f"  dropped by an earlier truncating start: entries {low}..{high}")
    lines.append(f"  a start replays the WAL after seq {report['replay_after_seq']}")
    return lines


@wal.command("verify")
@click.argument("data_dir", type=click.Path(path_type=Path, exists=True, file_okay=False))
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
def verify(data_dir: Path, as_json: bool) -> None:
    """Check every WAL segment and snapshot of DATA_DIR; exit 1 on damage."""
    report = verify_data_dir(data_dir)
    if as_json:
        click.echo(json.dumps(report, indent=2))
    else:
        click.echo("\n".join(_render(report)))
    if report["verdict"] == "damaged":
        raise SystemExit(1)
