"""Which HTTP path answered each search: the fast protocol or the ASGI route.

``ruvstream_http_search_path_total{path="fast"}`` counts searches the node
HTTP protocol answered itself; ``path="standard"`` counts those the search
route answered (every one under ``--http standard``, and under fast the
ones the shortcut passes on: SSE, large or chunked bodies, errors). A fast
node whose fast count stays at zero is not taking the shortcut.

``ruvstream_ws_frame_path_total`` does the same for WebSocket frames:
``fast`` counts those the node WebSocket protocol handed to the session
itself (``api/ws_protocol.py``), ``standard`` those the session's read loop
took from the ASGI queue (every one under ``--http standard``, else frames
that do not parse and frames behind one still queued).
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter

__all__ = ["SearchPaths"]


class SearchPaths:
    def __init__(self, registry: CollectorRegistry) -> None:
        counter = Counter(
            "ruvstream_http_search_path",
            "HTTP searches by the path that answered them (fast protocol or ASGI route)",
            ["path"],
            registry=registry,
        )
        # Both children exist from the start, so a path that never served shows 0.
        self.fast = counter.labels("fast")
        self.standard = counter.labels("standard")
        frames = Counter(
            "ruvstream_ws_frame_path",
            "WebSocket frames by the path that took them (fast protocol or ASGI queue)",
            ["path"],
            registry=registry,
        )
        self.ws_fast = frames.labels("fast")
        self.ws_standard = frames.labels("standard")
