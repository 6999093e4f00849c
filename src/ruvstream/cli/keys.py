"""``ruvstream keys``: issue, list and revoke API keys in a key file.

The file keeps hashes only, so ``create`` prints the key once; a lost key
is revoked and a new one issued. Node and router read the file at start-up.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from ruvstream.auth import (
    KeyEntry,
    KeyFileError,
    load_key_file,
    new_key,
    write_key_file,
)

__all__ = ["keys"]

_FILE = click.option(
    "--file",
    "path",
    type=click.Path(dir_okay=False, path_type=Path),
    required=True,
    help="The key file (created if missing).",
)


def _load(path: Path, *, missing_ok: bool = False) -> tuple[list[KeyEntry], dict[str, Any]]:
    if missing_ok and not path.exists():
        return [], {}
    try:
        return load_key_file(path)
    except KeyFileError as exc:
        raise click.ClickException(str(exc)) from None


@click.group()
def keys() -> None:
    """API keys: scopes read, write, admin; optional collection patterns; a router tier."""


@keys.command("create")
@_FILE
@click.option("--scopes", required=True, help="Comma-separated: read, write, admin.")
@click.option(
    "--collections",
    "patterns",
    multiple=True,
    help="fnmatch pattern of the collections the key reaches (repeatable; default: all).",
)
@click.option(
    "--tier",
    type=click.Choice(["free", "standard", "premium"]),
    default="free",
    show_default=True,
)
@click.option("--name", default="", help="A name to find the key by (default: its id).")
def create(path: Path, scopes: str, patterns: tuple[str, ...], tier: str, name: str) -> None:
    """Add a key and print it, once."""
    entries, document = _load(path, missing_ok=True)
    if name and any(e.name == name for e in entries):
        raise click.ClickException(f"a key named {name!r} exists; revoke it first")
    try:
        entry, key = new_key(scopes, name=name, collections=patterns or None, tier=tier)
    except KeyFileError as exc:
        raise click.BadParameter(str(exc), param_hint="--scopes") from None
    write_key_file(path, [*entries, entry], document)
    click.echo(key)
    click.echo(f"key {entry.id} ({entry.name}) added to {path}; it is not shown again", err=True)


@keys.command("list")
@_FILE
@click.option("--json", "as_json", is_flag=True, help="One JSON object per key.")
def list_keys(path: Path, as_json: bool) -> None:
    """The keys in the file (ids, names, scopes; never the keys)."""
    entries, _ = _load(path)
    for entry in entries:
        if as_json:
            shown = entry.to_json()
            shown.pop("hash")
            click.echo(json.dumps(shown))
            continue
        reach = ",".join(entry.collections) if entry.collections is not None else "*"
        scopes = ",".join(sorted(entry.scopes))
        click.echo(f"{entry.id}  {entry.name}  {scopes}  {reach}  {entry.tier}  {entry.created_at}")


@keys.command("revoke")
@_FILE
@click.argument("key")
def revoke(path: Path, key: str) -> None:
    """Remove a key by id or name (node and router drop it at their next start)."""
    entries, document = _load(path)
    kept = [e for e in entries if key not in (e.id, e.name)]
    if len(kept) == len(entries):
        raise click.ClickException(f"no key with id or name {key!r} in {path}")
    write_key_file(path, kept, document)
    click.echo(f"revoked {len(entries) - len(kept)} key(s) from {path}", err=True)
