"""Writing known records to a real node, damaging its files, and checking what survived."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import httpx

from ruvstream.core.records import decode_op
from ruvstream.storage.wal_scan import iter_frames, scan_segment

DIM = 8
SERVE = [sys.executable, "-m", "ruvstream", "serve", "--host", "127.0.0.1", "--port", "0"]


def write_records(url: str, count: int, *, per_op: int = 5, start: int = 0) -> list[str]:
    """``count`` records in ops of ``per_op``; returns the acknowledged ids."""
    ids: list[str] = []
    with httpx.Client(base_url=url, timeout=30) as http:
        if start == 0:
            http.put("/v1/collections/d", json={"dim": DIM}).raise_for_status()
        for first in range(start, start + count, per_op):
            batch = [f"r{i}" for i in range(first, min(first + per_op, start + count))]
            records = [
                {"id": i, "vector": [float(n % 7 + 1)] * DIM, "metadata": {"i": i}}
                for n, i in enumerate(batch)
            ]
            response = http.post("/v1/collections/d/records", json={"records": records})
            response.raise_for_status()
            ids.extend(batch)
    return ids


def missing(url: str, ids: list[str]) -> list[str]:
    """The ids the node does not answer with their own metadata."""
    gone = []
    with httpx.Client(base_url=url, timeout=30) as http:
        for record_id in ids:
            response = http.get(f"/v1/collections/d/records/{record_id}")
            if response.status_code != 200 or response.json()["metadata"] != {"i": record_id}:
                gone.append(record_id)
    return gone


def count(url: str) -> int:
    return int(httpx.get(f"{url}/v1/collections/d", timeout=30).json()["count"])


def flip_mid_segment(wal_dir: Path) -> tuple[Path, int, list[str]]:
    """Flip one bit inside the middle frame of the fullest segment.

    Returns the segment, the damaged frame's offset, and the ids written
    by the frames before it.
    """
    segment = max(wal_dir.glob("wal-*.log"), key=lambda p: p.stat().st_size)
    report = scan_segment(segment.name, segment.read_bytes())
    assert report.frames >= 20, report
    offset, _ = report.seqs[report.frames // 2]
    data = bytearray(segment.read_bytes())
    before = [
        record.id
        for frame in iter_frames(bytes(data))
        if frame.offset < offset
        for record in decode_op(frame.payload).records
    ]
    data[offset + 20] ^= 0x04
    segment.write_bytes(bytes(data))
    return segment, offset, before


def refused(data_dir: Path, *args: str) -> list[str]:
    """Start ``serve`` on ``data_dir``; it must exit 1 without a traceback."""
    command = [*SERVE, "--data-dir", str(data_dir), *args]
    done = subprocess.run(command, capture_output=True, timeout=120, check=False)
    output = (done.stdout + done.stderr).decode()
    assert done.returncode == 1, output
    assert "Traceback" not in output
    return done.stderr.decode().strip().splitlines()
