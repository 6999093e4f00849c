"""Server-Sent Events: search results as a stream, and standing-query events.

Event bodies are JSON; a subscription stream sends a comment line every
``heartbeat`` seconds so proxies keep an idle stream open, and ends when the
subscription closes, the node drains, or the client goes away (which also
ends the subscription: its stream was its only reader). The subscription's
queue, bounded in matches and bytes, is the stream's only buffer (the body
is pulled only as fast as the socket takes it); a reader that lets it fill
gets ``event: error`` with code ``slow_consumer`` and the stream ends.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import orjson
from starlette.responses import StreamingResponse

from ruvstream.api.state import ServingState
from ruvstream.engine import SearchRequest, Subscription
from ruvstream.error_map import as_ruvstream_error
from ruvstream.errors import SlowConsumerError
from ruvstream.service import NodeService
from ruvstream.service.answers import hit_json

__all__ = ["HEARTBEAT_SECONDS", "event", "search_stream", "subscription_stream"]

HEARTBEAT_SECONDS = 15.0
_HEADERS = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}


def event(name: str, data: Any) -> bytes:
    return b"event: " + name.encode() + b"\ndata: " + orjson.dumps(data) + b"\n\n"


def search_stream(service: NodeService, name: str, request: SearchRequest) -> StreamingResponse:
    """A checked search, started when the stream starts: hit events, then done."""

    async def events() -> AsyncIterator[bytes]:
        try:
            pending = service.submit_search(name, request)
            await pending.future
            hits = pending.hits()
        except Exception as exc:
            yield event("error", as_ruvstream_error(exc).to_payload())
            return
        for rank, hit in enumerate(hits):
            yield event("hit", {**hit_json(hit), "rank": rank})
        yield event("done", {"count": len(hits), "version": service.version(name)})

    return StreamingResponse(events(), media_type="text/event-stream", headers=_HEADERS)


def subscription_stream(
    state: ServingState, service: NodeService, sub: Subscription
) -> StreamingResponse:
    sub.followed = True
    metrics = service.metrics

    async def events() -> AsyncIterator[bytes]:
        metrics.streams.labels("sse_subscription").inc()
        stop = asyncio.ensure_future(state.stop_streams.wait())
        try:
            yield event("subscribed", {"subscription": sub.id, "collection": sub.collection})
            while True:
                nxt = asyncio.ensure_future(sub.next())
                done, _ = await asyncio.wait(
                    {nxt, stop}, timeout=HEARTBEAT_SECONDS, return_when=asyncio.FIRST_COMPLETED
                )
                if stop in done:
                    nxt.cancel()
                    yield event("end", {"reason": "node shutting down"})
                    return
                if nxt not in done:
                    nxt.cancel()
                    yield b": ping\n\n"
                    continue
                match = nxt.result()
                if match is None and sub.fell_behind:
                    metrics.slow_consumers.labels("sse", "queue").inc()
                    error = SlowConsumerError(
                        "the stream fell behind: its subscription's event queue filled"
                    )
                    yield event("error", error.to_payload())
                    return
                if match is None:
                    yield event("end", {"reason": sub.closed_reason or "closed"})
                    return
                yield event(
                    "match",
                    {
                        "subscription": sub.id,
                        "id": match.id,
                        "score": match.score,
                        "metadata": match.metadata,
                    },
                )
        finally:
            stop.cancel()
            service.unsubscribe(sub.id, "stream closed")
            metrics.streams.labels("sse_subscription").dec()

    return StreamingResponse(events(), media_type="text/event-stream", headers=_HEADERS)
