"""Errors of the scaling policies and their ports.

    ScalingError
    +-- CalendarError          a calendar file or event is malformed (names what and where)
    +-- ScalingConfigError     a scaling config file is malformed
    +-- TraceError             a load trace file is malformed
    +-- StaleFencingTokenError a port refused a caller whose fencing token is older
    +-- PortError              a port could not deliver (carries the HTTP status if any)

The malformed-input errors are also ``ValueError`` so callers that only know
"bad input" can catch that.
"""

from __future__ import annotations

__all__ = [
    "CalendarError",
    "PortError",
    "ScalingConfigError",
    "ScalingError",
    "StaleFencingTokenError",
    "TraceError",
]


class ScalingError(Exception):
    """Base of the scaling errors."""


class CalendarError(ScalingError, ValueError):
    """A calendar document or event is malformed; the message names the field."""


class ScalingConfigError(ScalingError, ValueError):
    """A scaling config document is malformed; the message names the field."""


class TraceError(ScalingError, ValueError):
    """A load trace is malformed; the message names the line."""


class StaleFencingTokenError(ScalingError):
    """The receiver has seen a newer fencing token: this caller is no longer the leader."""

    def __init__(self, token: int, highest: int) -> None:
        super().__init__(f"fencing token {token} is older than {highest}")
        self.token = token
        self.highest = highest


class PortError(ScalingError):
    """A port failed to deliver a command; ``status`` is the HTTP status when there was one."""

    def __init__(self, message: str, *, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status
