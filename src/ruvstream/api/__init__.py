"""The node's transports: REST, SSE, WebSocket and its HTTP protocol, over the service layer."""

from ruvstream.api.app import create_app
from ruvstream.api.server import serve

__all__ = ["create_app", "serve"]
