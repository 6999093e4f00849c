"""The client's public API is what ``__all__`` and docs/client.md promise."""

from __future__ import annotations

import inspect
from pathlib import Path

import ruvstream.client as client
from ruvstream.client import retry as client_retry
from ruvstream.core import retry

DOCS = Path(__file__).resolve().parents[2] / "docs" / "client.md"


def test_every_exported_name_exists() -> None:
    assert len(client.__all__) == len(set(client.__all__))
    for name in client.__all__:
        assert hasattr(client, name), name
    for name in retry.__all__:
        assert hasattr(retry, name), name
    for name in client_retry.__all__:  # the client's names are the core strategy itself
        assert getattr(client_retry, name) is getattr(retry, name) is getattr(client, name)


def test_the_documented_features_are_exported() -> None:
    text = DOCS.read_text()
    for name in ("AsyncClient", "Client", "ResultCache", "RetryBudget", "Timeouts", "Query"):
        assert name in client.__all__ and name in text


def test_sync_and_async_clients_offer_the_same_operations() -> None:
    def public(cls: type) -> set[str]:
        return {n for n, _ in inspect.getmembers(cls, callable) if not n.startswith("_")}

    assert public(client.AsyncClient) - {"aclose"} == public(client.Client) - {"close"}
    assert public(client.AsyncSession) - {"connect", "request"} == public(client.Session)


def test_the_retry_module_needs_only_the_standard_library() -> None:
    source = Path(retry.__file__).read_text()
    imports = [line for line in source.splitlines() if line.startswith(("import ", "from "))]
    stdlib = {"__future__", "random", "time", "collections", "dataclasses"}
    assert all(line.split()[1].split(".")[0] in stdlib for line in imports), imports
