"""Where others reach this node: the advertised URL, or the port it really bound.

A node started with ``--port 0`` learns its port only once uvicorn listens,
after the lifespan started the agent; ``resolve_address`` waits for it: the
process's single listening TCP socket (read from the OS), else the port file.
"""

from __future__ import annotations

import asyncio
import time

import psutil

from ruvstream.config import Settings

__all__ = ["resolve_address"]

_ANY = ("", "0.0.0.0", "::")


def _listening_ports() -> set[int]:
    try:
        connections = psutil.Process().net_connections(kind="tcp")
    except psutil.Error:
        return set()
    return {c.laddr.port for c in connections if c.status == psutil.CONN_LISTEN and c.laddr}


async def resolve_address(settings: Settings, *, within: float = 60.0) -> str:
    if settings.control.advertise_url:
        return settings.control.advertise_url.rstrip("/")
    host = settings.server.host
    host = "127.0.0.1" if host in _ANY else host
    if settings.server.port:
        return f"http://{host}:{settings.server.port}"
    deadline = time.monotonic() + within
    port_file = settings.server.port_file
    while time.monotonic() < deadline:
        ports = _listening_ports()
        if len(ports) == 1:
            return f"http://{host}:{ports.pop()}"
        if port_file is not None and port_file.exists() and port_file.read_text().strip():
            return f"http://{host}:{int(port_file.read_text())}"
        await asyncio.sleep(0.05)
    raise TimeoutError("the node did not start listening; set --advertise-url")
