"""Client-side failures, added under the shared ruvstream error tree.

The server's errors arrive as the classes of :mod:`ruvstream.errors` (rebuilt
by ``from_payload``), so ``except NotFoundError`` works whether the node or
the client noticed. What only a client can see is added here::

    UnavailableError (503)
    +-- TransportError          the connection broke; the request may have run
        +-- ConnectError        no connection was made; the request never ran
        +-- SessionClosedError  the WebSocket session was closed or gave up
    RequestTimeoutError (504)
    +-- ClientTimeoutError      a client deadline fired (phase: connect, read, total)

Invariant: a ``ConnectError`` guarantees the server did not see the request,
so even a write without an idempotency key may be retried after it.
"""

from __future__ import annotations

from ruvstream.errors import RequestTimeoutError, UnavailableError

__all__ = ["ClientTimeoutError", "ConnectError", "SessionClosedError", "TransportError"]


class TransportError(UnavailableError):
    code = "transport_error"


class ConnectError(TransportError):
    code = "connect_error"


class SessionClosedError(TransportError):
    code = "session_closed"


class ClientTimeoutError(RequestTimeoutError):
    code = "client_timeout"

    @property
    def phase(self) -> str:
        return str(self.details.get("phase", "total"))
