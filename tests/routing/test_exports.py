"""The public surface of ruvstream.routing is what its ``__all__`` promises."""

from __future__ import annotations

import ruvstream.routing as routing
from ruvstream.routing.cli import router


def test_all_names_exist_once() -> None:
    assert len(set(routing.__all__)) == len(routing.__all__)
    for name in routing.__all__:
        assert getattr(routing, name) is not None


def test_cli_command_is_named_router() -> None:
    assert router.name == "router"
    options = {o for p in router.params for o in p.opts}
    assert {"--node", "--strategy", "--redis-url", "--keys-file", "--port-file"} <= options
