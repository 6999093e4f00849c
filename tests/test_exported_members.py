"""The public API is what the packages' ``__all__`` promise, and nothing is missing."""

from __future__ import annotations

import importlib

import pytest

PACKAGES = [
    "ruvstream",
    "ruvstream.errors",
    "ruvstream.error_map",
    "ruvstream.config",
    "ruvstream.core",
    "ruvstream.index",
    "ruvstream.storage",
    "ruvstream.engine",
    "ruvstream.service",
    "ruvstream.api",
    "ruvstream.api.grpc",
    "ruvstream.tracing",
    "ruvstream.cli",
    "ruvstream.testing",
    "ruvstream.devstack",
    "ruvstream.serving",
    "ruvstream.client",
    "ruvstream.auth",
]


@pytest.mark.parametrize("name", PACKAGES)
def test_every_exported_name_exists(name: str) -> None:
    module = importlib.import_module(name)
    exported = module.__all__
    assert len(exported) == len(set(exported))
    for member in exported:
        assert hasattr(module, member), f"{name}.{member}"


def test_error_codes_are_unique_and_statuses_are_http() -> None:
    from ruvstream import errors
    from ruvstream.error_map import http_status

    classes = [getattr(errors, n) for n in errors.__all__ if n.endswith("Error")]
    codes = [c.code for c in classes]
    assert len(codes) == len(set(codes))
    assert all(400 <= http_status(c) < 600 for c in classes)
    for cls in classes:
        rebuilt = errors.from_payload(cls("m", retry_after=2.0).to_payload(), http_status(cls))
        assert type(rebuilt) is cls
        assert rebuilt.retry_after == 2.0
