"""Every row of the one error table names a real gRPC status; a busy gRPC port is one line."""

from __future__ import annotations

import socket
import subprocess
import sys
from pathlib import Path

import grpc

from ruvstream.error_map import ERROR_TABLE, grpc_status
from ruvstream.errors import DimensionMismatchError, RateLimitedError


def test_every_row_is_a_grpc_status_code() -> None:
    assert all(row.grpc in grpc.StatusCode.__members__ for row in ERROR_TABLE.values())
    assert grpc_status(DimensionMismatchError) == "INVALID_ARGUMENT"
    assert grpc_status(RateLimitedError) == "RESOURCE_EXHAUSTED"


def test_a_busy_grpc_port_stops_serve_with_one_line(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        done = subprocess.run(
            [
                sys.executable,
                "-m",
                "ruvstream",
                "serve",
                "--data-dir",
                str(tmp_path / "d"),
                "--port",
                "0",
                "--grpc-port",
                str(port),
            ],
            capture_output=True,
            text=True,
            timeout=120,
        )
    assert done.returncode == 1
    assert (
        done.stderr.strip()
        .splitlines()[-1]
        .startswith(f"ruvstream serve: cannot listen for gRPC on 127.0.0.1:{port}")
    )
