"""The import rule of docs/architecture.md, checked on the source with ``ast``.

Every import counts, a lazy one inside a function included, and relative
imports are resolved first. Lower packages import only their own rank and
below (plus the leaf modules); no production module imports the test helpers.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

SOURCE = Path(__file__).resolve().parents[1] / "src" / "ruvstream"

# The lower half, bottom up: a package may import packages of its rank or below.
LOWER_RANKS = {"core": 0, "index": 1, "storage": 1, "engine": 2, "replication": 3}
# Modules every package may use: the error tree and its one table, settings, metrics,
# region data.
LEAVES = {"errors", "error_map", "config", "telemetry", "geo"}


def _modules() -> list[Path]:
    return sorted(SOURCE.rglob("*.py"))


def _name(path: Path) -> list[str]:
    parts = ["ruvstream", *path.relative_to(SOURCE).with_suffix("").parts]
    return parts[:-1] if parts[-1] == "__init__" else parts


def imported(path: Path) -> Iterator[str]:
    """Every module ``path`` imports, as an absolute dotted name."""
    package = _name(path) if path.name == "__init__.py" else _name(path)[:-1]
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = ".".join(package[: len(package) - node.level + 1])
                module = f"{base}.{node.module}" if node.module else base
            else:
                module = node.module or ""
            yield module
            # ``from ruvstream import serving`` imports the module ruvstream.serving
            yield from (f"{module}.{alias.name}" for alias in node.names)


def _top(dotted: str) -> str | None:
    """The ruvstream package or top-level module a dotted name lies in."""
    parts = dotted.split(".")
    if parts[0] != "ruvstream" or len(parts) < 2:
        return None
    candidate = SOURCE / parts[1]
    return parts[1] if candidate.is_dir() or candidate.with_suffix(".py").exists() else None


def _package(path: Path) -> str:
    return path.relative_to(SOURCE).parts[0].removesuffix(".py")


def test_the_resolver_sees_relative_lazy_and_from_package_imports(tmp_path: Path) -> None:
    module = SOURCE / "routing" / "server.py"
    found = set(imported(module))
    assert {"ruvstream.routing.app", "ruvstream.serving"} <= found
    assert "ruvstream.devstack.cluster" in set(imported(SOURCE / "devstack" / "cli.py"))


@pytest.mark.parametrize("package", sorted(LOWER_RANKS))
def test_lower_packages_import_only_their_rank_and_below(package: str) -> None:
    rank = LOWER_RANKS[package]
    wrong = []
    for path in (SOURCE / package).rglob("*.py"):
        for dotted in imported(path):
            top = _top(dotted)
            if top is None or top == package or top in LEAVES:
                continue
            if LOWER_RANKS.get(top, rank + 1) > rank:  # unknown means above: api, cli, ...
                wrong.append(f"{path.relative_to(SOURCE)} imports {dotted}")
    assert wrong == []


def test_nothing_below_the_transports_imports_them() -> None:
    """The rule as PLAN.md states it, spelled out for the packages that exist today."""
    upper = {"api", "cli", "routing", "devstack", "bench", "client", "serving"}
    wrong = [
        f"{path.relative_to(SOURCE)} imports {dotted}"
        for package in LOWER_RANKS
        for path in (SOURCE / package).rglob("*.py")
        for dotted in imported(path)
        if _top(dotted) in upper
    ]
    assert wrong == []


def test_no_production_module_imports_the_test_helpers() -> None:
    wrong = [
        f"{path.relative_to(SOURCE)} imports {dotted}"
        for path in _modules()
        if _package(path) != "testing"
        for dotted in imported(path)
        if _top(dotted) == "testing"
    ]
    assert wrong == []


def test_no_package_is_an_empty_placeholder() -> None:
    for init in SOURCE.rglob("__init__.py"):
        modules = [p for p in init.parent.iterdir() if p.suffix == ".py" or p.is_dir()]
        body = ast.parse(init.read_text()).body
        has_code = any(not isinstance(n, ast.Expr) for n in body)  # more than a docstring
        assert has_code or len(modules) > 1, f"{init.parent.relative_to(SOURCE)} is empty"


def _generated(path: Path) -> bool:
    """Written by protoc (``ruvstream.api.grpc.codegen``), not by hand."""
    return "DO NOT EDIT!" in "".join(path.read_text().splitlines(keepends=True)[:3])


def test_every_module_curates_its_exports() -> None:
    missing = [
        str(path.relative_to(SOURCE))
        for path in _modules()
        if path.name != "__main__.py" and "__all__" not in path.read_text() and not _generated(path)
    ]
    assert missing == []


def test_the_control_plane_does_not_import_the_router() -> None:
    """The router follows the control plane's registry, never the other way round."""
    wrong = [
        f"{path.relative_to(SOURCE)} imports {dotted}"
        for path in (SOURCE / "control").rglob("*.py")
        for dotted in imported(path)
        if _top(dotted) == "routing"
    ]
    assert wrong == []
