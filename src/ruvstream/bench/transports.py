"""Request transports of the load generator: HTTP/1.1, HTTP/2, SSE, WebSocket.

Each transport offers the same two calls, ``search`` (returns hit ids, best
first) and ``upsert``, over the node's public API (docs/api.md), and raises
``RequestFailed`` with a machine-readable code on any failure, so the
generator counts errors by type the same way whatever the protocol.
"""

from __future__ import annotations

import asyncio
import itertools
from typing import Any, Protocol

import httpx
import orjson
from websockets.asyncio.client import ClientConnection, connect

from ruvstream.client.pool import pooled_http_client

__all__ = [
    "PROTOCOLS",
    "HttpTransport",
    "RequestFailed",
    "Transport",
    "WsTransport",
    "http2_client",
    "make",
    "speaks_http2",
]

PROTOCOLS = ("http", "http2", "sse", "ws")


class RequestFailed(Exception):
    """A request that did not produce an answer; ``code`` names why."""

    def __init__(self, code: str, message: str = "") -> None:
        super().__init__(f"{code}: {message}" if message else code)
        self.code = code


class Transport(Protocol):
    protocol: str

    async def search(self, collection: str, vector: list[float], k: int) -> list[str]: ...

    async def upsert(self, collection: str, rid: str, vector: list[float]) -> None: ...

    async def aclose(self) -> None: ...


def _error_code(status: int, body: bytes) -> str:
    try:
        code = orjson.loads(body)["error"]["code"]
        return str(code)
    except (orjson.JSONDecodeError, KeyError, TypeError):
        return f"http_{status}"


class HttpTransport:
    """REST over one pooled httpx client; ``sse`` streams search results as events."""

    def __init__(
        self,
        base_url: str,
        *,
        protocol: str = "http",
        max_connections: int = 256,
        ef: int | None = None,
    ) -> None:
        self.protocol = protocol
        self._extra: dict[str, Any] = {"ef": ef} if ef is not None else {}
        if protocol == "http2":
            self._client = http2_client(base_url, max_connections=max_connections)
        else:
            self._client = pooled_http_client(
                base_url, max_connections=max_connections, timeout=None
            )

    async def search(self, collection: str, vector: list[float], k: int) -> list[str]:
        body = orjson.dumps({"vector": vector, "k": k, **self._extra})
        url = f"/v1/collections/{collection}/search"
        headers = {"Content-Type": "application/json"}
        try:
            if self.protocol == "sse":
                return await self._search_sse(url, body, headers)
            response = await self._client.post(url, content=body, headers=headers)
        except httpx.HTTPError as exc:
            raise RequestFailed(type(exc).__name__.lower(), str(exc)) from exc
        if response.status_code != 200:
            raise RequestFailed(_error_code(response.status_code, response.content))
        if self.protocol == "http2" and response.http_version != "HTTP/2":
            raise RequestFailed("not_http2", f"answered over {response.http_version}")
        return [str(hit["id"]) for hit in orjson.loads(response.content)["hits"]]

    async def _search_sse(self, url: str, body: bytes, headers: dict[str, str]) -> list[str]:
        headers = {**headers, "Accept": "text/event-stream"}
        ids: list[str] = []
        async with self._client.stream("POST", url, content=body, headers=headers) as response:
            if response.status_code != 200:
                raise RequestFailed(_error_code(response.status_code, await response.aread()))
            event = ""
            async for line in response.aiter_lines():
                if line.startswith("event:"):
                    event = line[6:].strip()
                elif line.startswith("data:"):
                    data = orjson.loads(line[5:])
                    if event == "hit":
                        ids.append(str(data["id"]))
                    elif event == "error":
                        raise RequestFailed(str(data.get("error", {}).get("code", "sse_error")))
                    elif event == "done":
                        return ids
        raise RequestFailed("stream_ended", "the event stream closed before `done`")

    async def upsert(self, collection: str, rid: str, vector: list[float]) -> None:
        body = orjson.dumps({"records": [{"id": rid, "vector": vector}]})
        try:
            response = await self._client.post(
                f"/v1/collections/{collection}/records",
                content=body,
                headers={"Content-Type": "application/json"},
            )
        except httpx.HTTPError as exc:
            raise RequestFailed(type(exc).__name__.lower(), str(exc)) from exc
        if response.status_code != 200:
            raise RequestFailed(_error_code(response.status_code, response.content))

    async def upsert_many(
        self, collection: str, ids: list[str], vectors: list[list[float]]
    ) -> None:
        records = [{"id": rid, "vector": v} for rid, v in zip(ids, vectors, strict=True)]
        try:
            response = await self._client.post(
                f"/v1/collections/{collection}/records",
                content=orjson.dumps({"records": records}),
                headers={"Content-Type": "application/json"},
            )
        except httpx.HTTPError as exc:
            raise RequestFailed(type(exc).__name__.lower(), str(exc)) from exc
        if response.status_code != 200:
            raise RequestFailed(_error_code(response.status_code, response.content))

    async def aclose(self) -> None:
        await self._client.aclose()


class WsTransport:
    """Requests multiplexed over a few WebSocket connections, matched by request id."""

    protocol = "ws"

    def __init__(self, ws_url: str, sockets: int = 4) -> None:
        self._url = ws_url
        self._count = sockets
        self._sockets: list[ClientConnection] = []
        self._readers: list[asyncio.Task[None]] = []
        self._pending: dict[str, asyncio.Future[dict[str, Any]]] = {}
        self._ids = itertools.count()
        self._lock = asyncio.Lock()

    async def _socket(self, n: int) -> ClientConnection:
        if not self._sockets:
            async with self._lock:
                if not self._sockets:
                    for _ in range(self._count):
                        ws = await connect(self._url, max_size=None, ping_interval=None)
                        self._sockets.append(ws)
                        self._readers.append(asyncio.create_task(self._read(ws)))
        return self._sockets[n % len(self._sockets)]

    async def _read(self, ws: ClientConnection) -> None:
        try:
            async for message in ws:
                frame = orjson.loads(message)
                future = self._pending.pop(str(frame.get("id")), None)
                if future is not None and not future.done():
                    future.set_result(frame)
        except Exception as exc:  # the socket died: fail what waits on it
            failure = RequestFailed("connection_closed", str(exc))
            for rid, future in list(self._pending.items()):
                if not future.done():
                    future.set_exception(failure)
                self._pending.pop(rid, None)

    async def _call(self, frame: dict[str, Any]) -> dict[str, Any]:
        n = next(self._ids)
        rid = f"b{n}"
        try:
            ws = await self._socket(n)
        except OSError as exc:
            raise RequestFailed("connect_error", str(exc)) from exc
        future: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self._pending[rid] = future
        try:
            await ws.send(orjson.dumps({"id": rid, **frame}).decode())
            reply = await future
        finally:
            self._pending.pop(rid, None)
        if reply.get("type") == "error":
            raise RequestFailed(str(reply.get("error", {}).get("code", "ws_error")))
        return reply

    async def search(self, collection: str, vector: list[float], k: int) -> list[str]:
        reply = await self._call(
            {"op": "search", "collection": collection, "vector": vector, "k": k}
        )
        return [str(hit["id"]) for hit in reply["hits"]]

    async def upsert(self, collection: str, rid: str, vector: list[float]) -> None:
        await self._call(
            {"op": "upsert", "collection": collection, "records": [{"id": rid, "vector": vector}]}
        )

    async def aclose(self) -> None:
        for ws in self._sockets:
            await ws.close()
        for task in self._readers:
            task.cancel()
        await asyncio.gather(*self._readers, return_exceptions=True)


def http2_client(base_url: str, *, max_connections: int = 256) -> httpx.AsyncClient:
    """HTTP/2 only: prior knowledge (h2c) on http://, ALPN ``h2`` on https://.

    httpx needs ``h2`` for this, and with HTTP/1.1 allowed it would speak
    HTTP/1.1 over cleartext: ``http1=False`` makes it HTTP/2 or nothing.
    """
    return httpx.AsyncClient(
        base_url=base_url,
        http1=False,
        http2=True,
        timeout=None,
        limits=httpx.Limits(
            max_connections=max_connections, max_keepalive_connections=max_connections
        ),
    )


async def speaks_http2(base_url: str) -> bool:
    """Whether the server answers HTTP/2 with prior knowledge (h2c) on ``/health``."""
    async with httpx.AsyncClient(http1=False, http2=True, timeout=5.0) as client:
        try:
            response = await client.get(f"{base_url}/health")
        except httpx.HTTPError:
            return False
    return response.http_version == "HTTP/2" and response.status_code == 200


def make(protocol: str, base_url: str) -> Transport:
    if protocol not in PROTOCOLS:
        raise ValueError(f"unknown protocol {protocol!r}; one of {PROTOCOLS}")
    if protocol == "ws":
        return WsTransport(base_url.replace("http://", "ws://", 1) + "/v1/ws")
    return HttpTransport(base_url, protocol=protocol)
