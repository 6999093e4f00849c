"""Every command line in deploy/ names a real ``ruvstream`` subcommand and real
flags, so a typo in a manifest fails here, not at 3 a.m. in a crash loop.

Two are written ahead of the code, as agreed: ``serve --api-keys`` (the node
refuses a non-loopback listener without keys; issue 11) and ``ruvstream control``
(issue 14). Once they exist their flags are checked like all the others.
"""

from __future__ import annotations

import json

import click
import hcl2
import pytest

from ruvstream.cli.main import main

from .conftest import DEPLOY, load_documents


def _container_args() -> list[tuple[str, list[str]]]:
    found: list[tuple[str, list[str]]] = []
    for path in sorted(DEPLOY.rglob("*.yaml")):
        if "kubernetes" not in path.parts and path.parent.name not in ("knative", "cloudrun"):
            continue
        for doc in load_documents(path):
            template = doc.get("spec", {}).get("template", {}).get("spec", {})
            for container in template.get("containers", []):
                if "args" in container:
                    found.append((f"{path.relative_to(DEPLOY)}:{doc['kind']}", container["args"]))
    module = hcl2.loads((DEPLOY / "terraform" / "modules" / "region" / "main.tf").read_text())
    (service,) = (
        r["google_cloud_run_v2_service"]
        for r in module["resource"]
        if "google_cloud_run_v2_service" in r
    )
    containers = service["node"]["template"][0]["containers"]
    found += [
        ("terraform region module", c["args"][0] if isinstance(c["args"][0], list) else c["args"])
        for c in containers
    ]
    dockerfile = (DEPLOY / "container" / "Dockerfile").read_text()
    cmd = dockerfile[dockerfile.index("\nCMD ") + 5 :].replace("\\\n", " ")
    found.append(("Dockerfile CMD", json.loads(cmd)))
    return found


def _flags(command: click.Command) -> set[str]:
    return {opt for p in command.params for opt in (*p.opts, *p.secondary_opts)}


ARGS = _container_args()


def test_every_place_that_runs_a_process_is_found() -> None:
    places = {place.split(":")[0] for place, _ in ARGS}
    assert {
        "knative/service.yaml",
        "cloudrun/service.yaml",
        "terraform region module",
        "Dockerfile CMD",
    } <= places
    assert {args[0] for _, args in ARGS} == {"serve", "router", "control"}


@pytest.mark.parametrize(("place", "args"), ARGS, ids=[p for p, _ in ARGS])
def test_subcommand_and_flags_exist(place: str, args: list[str]) -> None:
    name = args[0]
    command = main.get_command(click.Context(main), name)
    assert command is not None, f"{place}: no ruvstream {name}"
    known = _flags(command)
    for token in args[1:]:
        if token.startswith("--"):
            flag = token.split("=", 1)[0]
            assert flag in known, f"{place}: {name} {flag}"
