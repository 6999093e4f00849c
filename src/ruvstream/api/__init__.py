"""HTTP, SSE and WebSocket adapters over a node; the one place errors become statuses."""

from ruvstream.api.app import create_app
from ruvstream.api.server import serve

__all__ = ["create_app", "serve"]
