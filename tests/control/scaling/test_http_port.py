"""The degradation port over HTTP against a real ASGI app on a loopback port."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator

import pytest
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from ruvstream.control.scaling import (
    DEGRADATION_PATH,
    LADDER,
    DegradationLevel,
    DegradationPlan,
    HttpDegradationPort,
    MemoryDegradationPort,
    PortError,
    StaleFencingTokenError,
)

KEY = "admin-key"


def router_like_app(state: MemoryDegradationPort) -> Starlette:
    """What the router's admin endpoint does: authenticate, parse, fence, apply."""

    async def degradation(request: Request) -> JSONResponse:
        if request.headers.get("authorization") != f"Bearer {KEY}":
            return JSONResponse({"code": "unauthorized"}, status_code=401)
        try:
            plan = DegradationPlan.from_body(await request.json())
        except ValueError as exc:
            return JSONResponse({"code": "bad_request", "message": str(exc)}, status_code=400)
        try:
            state.accept(plan)
        except StaleFencingTokenError as exc:
            return JSONResponse({"highest_fencing_token": exc.highest}, status_code=409)
        current = state.current
        assert current is not None
        return JSONResponse({"level": current.level.label, "sequence": current.sequence})

    return Starlette(routes=[Route(DEGRADATION_PATH, degradation, methods=["POST"])])


@pytest.fixture
async def server() -> AsyncIterator[tuple[str, MemoryDegradationPort]]:
    state = MemoryDegradationPort()
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    config = uvicorn.Config(router_like_app(state), log_level="warning", lifespan="off")
    srv = uvicorn.Server(config)
    task = asyncio.create_task(srv.serve(sockets=[sock]))
    while not srv.started and not task.done():  # noqa: ASYNC110 - uvicorn exposes a flag
        await asyncio.sleep(0.01)
    yield f"http://127.0.0.1:{sock.getsockname()[1]}", state
    srv.should_exit = True
    await task
    sock.close()


def plan(level: DegradationLevel, sequence: int, token: int) -> DegradationPlan:
    return DegradationPlan(LADDER[level], "budget pressure 1.30", 1.3, 1.8e9, sequence, token)


async def test_a_plan_reaches_the_router_intact(
    server: tuple[str, MemoryDegradationPort],
) -> None:
    url, state = server
    port = HttpDegradationPort(url, api_key=KEY)
    try:
        sent = plan(DegradationLevel.MAJOR, 1, 5)
        await port.apply(sent)
        assert state.current == sent
        assert state.current.actions.tier("free").shed_share == 0.5
        await port.apply(plan(DegradationLevel.MINOR, 2, 5))
        assert state.current is not None and state.current.level == DegradationLevel.MINOR
    finally:
        await port.aclose()


async def test_an_older_leader_is_fenced_out(server: tuple[str, MemoryDegradationPort]) -> None:
    url, state = server
    port = HttpDegradationPort(url, api_key=KEY)
    try:
        await port.apply(plan(DegradationLevel.CRITICAL, 1, 9))
        with pytest.raises(StaleFencingTokenError) as caught:
            await port.apply(plan(DegradationLevel.NONE, 7, 8))
        assert caught.value.highest == 9
        assert state.current is not None and state.current.level == DegradationLevel.CRITICAL
    finally:
        await port.aclose()


async def test_refusals_and_an_absent_router_are_port_errors(
    server: tuple[str, MemoryDegradationPort],
) -> None:
    url, _ = server
    port = HttpDegradationPort(url, api_key="wrong")
    try:
        with pytest.raises(PortError) as caught:
            await port.apply(plan(DegradationLevel.MINOR, 1, 1))
        assert caught.value.status == 401
    finally:
        await port.aclose()
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        closed = s.getsockname()[1]
    gone = HttpDegradationPort(f"http://127.0.0.1:{closed}", api_key=KEY, timeout=2.0)
    try:
        with pytest.raises(PortError):
            await gone.apply(plan(DegradationLevel.MINOR, 1, 1))
    finally:
        await gone.aclose()


def test_the_body_round_trips() -> None:
    for level in DegradationLevel:
        p = plan(level, 3, 4)
        assert DegradationPlan.from_body(p.to_body()) == p
    with pytest.raises(ValueError, match="missing field fencing_token"):
        body = plan(DegradationLevel.NONE, 1, 1).to_body()
        del body["fencing_token"]
        DegradationPlan.from_body(body)
