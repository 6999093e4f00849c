"""HTTP routes the node mounts under ``/v1/replication``.

``GET /snapshot`` writes a snapshot now and streams it as a tar archive, for
``bootstrap_from_peer``. The archive is built into a spooled temporary file
under the snapshot lock, so the directory may be pruned while the body streams.
"""

from __future__ import annotations

import asyncio
import tarfile
import tempfile
from collections.abc import AsyncIterator
from pathlib import Path
from typing import IO

from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import BaseRoute, Route

from ruvstream.error_map import http_error
from ruvstream.errors import UnavailableError

__all__ = ["routes"]

_CHUNK = 1 << 20


def _archive(directory: Path) -> IO[bytes]:
    spool = tempfile.SpooledTemporaryFile(max_size=64 << 20)  # noqa: SIM115 (closed by the body)
    with tarfile.open(fileobj=spool, mode="w") as tar:
        tar.add(directory, arcname=".")
    spool.seek(0)
    return spool  # type: ignore[return-value]


async def snapshot(request: Request) -> Response:
    node = getattr(request.app.state, "node", None)
    if node is None:
        refused = http_error(UnavailableError("node is loading", retry_after=1.0))
        return Response(
            refused.body, refused.status, dict(refused.headers), media_type=refused.media_type
        )
    loop = asyncio.get_running_loop()
    # Archived before the snapshot lock is let go: a second bootstrap's snapshot may prune it.
    spool: IO[bytes] = await node.snapshot_read(_archive)

    async def body() -> AsyncIterator[bytes]:
        try:
            while chunk := await loop.run_in_executor(None, spool.read, _CHUNK):
                yield chunk
        finally:
            spool.close()

    return StreamingResponse(body(), media_type="application/x-tar")


routes: list[BaseRoute] = [Route("/snapshot", snapshot, methods=["GET"])]
