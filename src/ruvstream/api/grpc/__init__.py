"""The node's gRPC transport: ``ruvstream.v1.VectorSearch`` over the service layer.

``start_grpc`` runs it on the node's event loop beside uvicorn
(``ruvstream serve --grpc-port N``); ``v1`` holds the generated messages
and stubs a client uses.
"""

from ruvstream.api.grpc.auth import AUTHORIZATION_KEY, bearer_token
from ruvstream.api.grpc.server import SERVICE_NAME, GrpcServer, start_grpc

__all__ = [
    "AUTHORIZATION_KEY",
    "SERVICE_NAME",
    "GrpcServer",
    "bearer_token",
    "start_grpc",
]
