"""``--http auto|fast|standard``: which HTTP/1.1 protocol a node serves with.

    fast      the node HTTP protocol (``api/http_protocol.py``): uvicorn's
              httptools protocol plus plain searches answered without a task
    standard  uvicorn's httptools protocol with the read deadlines and the
              connection counting of ``api/http_guard.py`` only (uvicorn's own
              choice, untouched, when its internals are not the known ones)
    auto      fast when it can run, else standard with one log line saying why

The fast protocol overrides a private uvicorn method and reads and writes
undocumented fields, so whether it can run is checked at start-up, against
the names it uses (``missing_internals``), never assumed from a version
number; pyproject pins uvicorn to the minor version the tests ran. It also
runs only in front of the ASGI stack it stands in for (``unknown_stack``):
an app with other middleware or routes ahead of the search gets standard
(auto) or a refusal to start (fast), never a shortcut around them.
Modelled on uvicorn's own ``http="auto"`` choice (``uvicorn/protocols/http/auto.py``).
"""

from __future__ import annotations

import importlib
import inspect
import logging
from types import ModuleType
from typing import Any, Literal

import uvicorn
from starlette.applications import Starlette
from starlette.middleware.cors import CORSMiddleware
from starlette.routing import Route

from ruvstream.api import rest
from ruvstream.api.admission import AdmissionMiddleware
from ruvstream.api.fastlane import FastLane
from ruvstream.auth import AuthMiddleware

__all__ = [
    "HTTP_MODES",
    "FastPathUnavailableError",
    "HttpMode",
    "fast_path_unavailable",
    "http_protocol_for",
    "missing_internals",
    "unknown_stack",
]

log = logging.getLogger(__name__)

HttpMode = Literal["auto", "fast", "standard"]
HTTP_MODES: tuple[HttpMode, ...] = ("auto", "fast", "standard")

# What api/http_protocol.py uses of uvicorn beyond its public API.
_MODULE_NAMES = ("STATUS_LINE", "HttpToolsProtocol", "RequestResponseCycle")
_PROTOCOL_METHODS = (
    "_start_asgi_task",
    "on_message_begin",
    "on_headers_complete",
    "on_message_complete",
    "on_response_complete",
    "handle_websocket_upgrade",
    "connection_made",
    "connection_lost",
)
_PROTOCOL_FIELDS = ("app", "loop", "transport", "cycle", "pipeline")
_CYCLE_FIELDS = (
    "scope",
    "body",
    "more_body",
    "waiting_for_100_continue",
    "disconnected",
    "default_headers",
    "keep_alive",
    "response_started",
    "response_complete",
    "message_event",
    "on_response",
)
_KNOWN_MIDDLEWARE = (AdmissionMiddleware, AuthMiddleware, FastLane)
"""The stack the shortcut stands in for: it applies admission and the key
check itself, and FastLane only ever touches WebSockets. CORSMiddleware may
stand after admission: the shortcut leaves every request with an Origin to it."""


class FastPathUnavailableError(RuntimeError):
    """``--http fast`` was asked for and cannot run; the message says why, in one line."""


def _stored_fields(cls: type) -> set[str]:
    # The names __init__ assigns or reads: instance fields, seen without building an instance.
    init = getattr(cls, "__init__", None)
    code = getattr(init, "__code__", None)
    return set(code.co_names) if code is not None else set()


def missing_internals(httptools_impl: Any, flow_control: Any) -> list[str]:
    """The uvicorn names the fast protocol uses that these modules lack."""
    missing = [n for n in _MODULE_NAMES if not hasattr(httptools_impl, n)]
    if not hasattr(flow_control, "HIGH_WATER_LIMIT"):
        missing.append("HIGH_WATER_LIMIT")
    protocol = getattr(httptools_impl, "HttpToolsProtocol", None)
    if protocol is not None:
        missing += [f"HttpToolsProtocol.{m}" for m in _PROTOCOL_METHODS if not hasattr(protocol, m)]
        fields = _stored_fields(protocol)
        missing += [f"HttpToolsProtocol.{f}" for f in _PROTOCOL_FIELDS if f not in fields]
        start = getattr(protocol, "_start_asgi_task", None)
        if start is not None and list(inspect.signature(start).parameters) != [
            "self",
            "cycle",
            "app",
        ]:
            missing.append("HttpToolsProtocol._start_asgi_task(cycle, app)")
    cycle = getattr(httptools_impl, "RequestResponseCycle", None)
    if cycle is not None:
        fields = _stored_fields(cycle)
        missing += [f"RequestResponseCycle.{f}" for f in _CYCLE_FIELDS if f not in fields]
    return missing


def fast_path_unavailable() -> str | None:
    """Why the installed uvicorn cannot run the fast protocol, or None if it can."""
    try:
        impl = importlib.import_module("uvicorn.protocols.http.httptools_impl")
        flow: ModuleType = importlib.import_module("uvicorn.protocols.http.flow_control")
    except ImportError as exc:  # httptools is not installed
        return f"uvicorn's httptools protocol does not load ({exc})"
    missing = missing_internals(impl, flow)
    if missing:
        return f"uvicorn {uvicorn.__version__} lacks {', '.join(missing)}"
    return None


def unknown_stack(app: Any) -> str | None:
    """Why ``app`` is not the ASGI stack the shortcut stands in for, or None if it is."""
    if type(app) is not Starlette:
        return f"the app is a {type(app).__name__}, not the node's Starlette app"
    everything: list[Any] = [m.cls for m in app.user_middleware]
    classes = [c for c in everything if c is not CORSMiddleware]
    if classes != list(_KNOWN_MIDDLEWARE):
        names = ", ".join(getattr(c, "__name__", repr(c)) for c in classes)
        known = ", ".join(c.__name__ for c in _KNOWN_MIDDLEWARE)
        return f"the app's middleware is [{names}], not [{known}]"
    first = app.routes[0] if app.routes else None
    if not isinstance(first, Route) or first.endpoint is not rest.search:
        return "the search route is not the app's first route"
    return None


def _standard(app: Starlette) -> Any:
    """The guarded protocol where uvicorn's internals are the known ones, else uvicorn's own."""
    state = getattr(app.state, "serving", None)
    if state is None:
        return "auto"  # not a node app: uvicorn's own choice, httptools or h11
    reason = fast_path_unavailable()
    if reason is not None:
        log.warning("HTTP read deadlines are off (uvicorn's own protocol): %s", reason)
        return "auto"
    from ruvstream.api.http_guard import guarded_http_protocol  # imports the internals

    return guarded_http_protocol(state)


def http_protocol_for(mode: str, app: Starlette) -> Any:
    """The ``http=`` argument of ``uvicorn.Config`` for this mode and app.

    Raises ``FastPathUnavailableError`` when ``fast`` cannot run.
    """
    if mode not in HTTP_MODES:
        raise ValueError(f"--http is one of {', '.join(HTTP_MODES)}, not {mode!r}")
    if mode == "standard":
        return _standard(app)
    reason = fast_path_unavailable() or unknown_stack(app)
    if reason is not None:
        if mode == "fast":
            raise FastPathUnavailableError(f"--http fast cannot run: {reason}")
        log.warning("--http auto: serving with uvicorn's own HTTP protocol, because %s", reason)
        return _standard(app)
    from ruvstream.api.http_protocol import node_http_protocol  # imports the internals

    return node_http_protocol(app)
