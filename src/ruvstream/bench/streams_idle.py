"""``ruvstream bench streams-idle``: node memory per idle WebSocket stream.

    ruvstream bench streams-idle --count 10000 [--url URL] [--settle-seconds 5]

Opens ``--count`` idle WebSockets on the node's ``/v1/ws`` (the raw streams
of ``bench/streams.py``, which answer pings and send nothing else) from
source addresses spread over 127.0.0.0/8, waits for the node's memory to
settle, and reports its resident set (``/health``'s ``memory_bytes``, the
process's VmRSS) before and with the streams open, and the difference per
stream. Without ``--url`` a node is started here, in a fresh data dir, and
inherits the file limit raised for the run.

Each stream needs a file descriptor on both sides: the command raises
RLIMIT_NOFILE to ``count`` plus a margin (as far as the hard limit, or past
it when running as root) and says so when the limit still falls short.
"""

from __future__ import annotations

import asyncio
import resource
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import click
import httpx

from ruvstream.bench.streams import StreamPool, raise_file_limit
from ruvstream.bench.target import check_loopback, spawned_node

__all__ = ["IdleStreams", "measure_idle_streams", "streams_idle"]

_FD_MARGIN = 1024


@dataclass(frozen=True)
class IdleStreams:
    count: int
    opened: int
    rss_before: int
    rss_open: int
    failures: dict[str, int]

    @property
    def bytes_per_stream(self) -> float:
        return (self.rss_open - self.rss_before) / max(1, self.opened)


def ensure_file_limit(count: int) -> int:
    """Raise RLIMIT_NOFILE towards ``count`` + a margin; returns the soft limit reached."""
    want = count + _FD_MARGIN
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft >= want:
        return soft
    try:  # past the hard limit only with the privilege to raise it
        resource.setrlimit(resource.RLIMIT_NOFILE, (max(want, soft), max(want, hard)))
    except (ValueError, OSError):
        raise_file_limit()
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


async def _rss(url: str) -> int:
    async with httpx.AsyncClient(base_url=url, timeout=30) as client:
        return int((await client.get("/health")).json()["memory_bytes"])


async def _settled_rss(url: str, settle_seconds: float) -> int:
    """RSS once two readings ``settle_seconds`` apart agree within 1%."""
    last = await _rss(url)
    deadline = time.monotonic() + 10 * settle_seconds
    while True:
        await asyncio.sleep(settle_seconds)
        now = await _rss(url)
        if abs(now - last) <= 0.01 * last or time.monotonic() > deadline:
            return now
        last = now


async def measure_idle_streams(url: str, count: int, settle_seconds: float) -> IdleStreams:
    split = urlsplit(url)
    pool = StreamPool(split.hostname or "127.0.0.1", split.port or 80)
    before = await _settled_rss(url, settle_seconds)
    try:
        await pool.resize(count)
        opened = pool.size
        rss_open = await _settled_rss(url, settle_seconds)
    finally:
        await pool.aclose()
    return IdleStreams(count, opened, before, rss_open, dict(pool.failures))


@click.command("streams-idle")
@click.option("--count", type=int, default=10_000, show_default=True)
@click.option("--url", default=None, help="Node URL on loopback; default: start a node here.")
@click.option("--settle-seconds", type=float, default=5.0, show_default=True)
def streams_idle(count: int, url: str | None, settle_seconds: float) -> None:
    """Node memory (RSS) per idle WebSocket stream."""
    limit = ensure_file_limit(count)
    if limit < count + _FD_MARGIN:
        click.echo(f"file limit {limit}: fewer than {count} streams may open", err=True)
    if url is not None:
        check_loopback(url)
        result = asyncio.run(measure_idle_streams(url, count, settle_seconds))
    else:
        with (
            tempfile.TemporaryDirectory(prefix="ruvstream-idle-") as workdir,
            spawned_node(Path(workdir) / "node", "--max-connections", str(count + 100)) as node,
        ):
            result = asyncio.run(measure_idle_streams(node, count, settle_seconds))
    mib = 1024 * 1024
    click.echo(f"streams opened    {result.opened} of {result.count}")
    click.echo(f"node RSS before   {result.rss_before / mib:.1f} MiB")
    click.echo(f"node RSS open     {result.rss_open / mib:.1f} MiB")
    click.echo(f"per stream        {result.bytes_per_stream / 1024:.1f} KiB")
    if result.failures:
        click.echo(f"failed to open    {result.failures}")
