"""``ruvstream router`` on a busy port: one clear line and exit 1, in a real process."""

from __future__ import annotations

import socket
import subprocess
import sys


def test_a_busy_port_is_one_line_and_exit_1() -> None:
    with socket.create_server(("127.0.0.1", 0)) as holder:
        port = holder.getsockname()[1]
        command = [sys.executable, "-m", "ruvstream", "router", "--host", "127.0.0.1"]
        command += ["--port", str(port), "--node", "local=http://127.0.0.1:9"]
        done = subprocess.run(command, capture_output=True, timeout=120, check=False)
    assert done.returncode == 1, done.stderr.decode()
    assert b"Traceback" not in done.stderr + done.stdout
    assert done.stderr.decode().strip().splitlines() == [
        f"ruvstream router: cannot listen on 127.0.0.1:{port}: address already in use"
    ]
