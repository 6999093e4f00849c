"""``ruvstream client``: the SDK from a shell (collections, search, standing queries).

Every command is a thin use of the sync ``Client``; answers print as JSON
lines so they pipe into ``jq``. Vectors are given as comma-separated floats.
"""

from __future__ import annotations

import dataclasses
import json
from typing import Any

import click

from .sync_client import Client

__all__ = ["client"]


def _vector(text: str) -> list[float]:
    try:
        return [float(part) for part in text.split(",") if part.strip()]
    except ValueError as exc:
        raise click.BadParameter(f"not a comma-separated list of numbers: {text!r}") from exc


def _echo(value: Any) -> None:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        value = dataclasses.asdict(value)
    click.echo(json.dumps(value, default=str))


@click.group()
@click.option("--url", default="http://127.0.0.1:8470", show_default=True, envvar="RUVSTREAM_URL")
@click.option("--timeout", type=float, default=30.0, show_default=True, help="Seconds per call.")
@click.option("--api-key", default=None, envvar="RUVSTREAM_API_KEY", help="Sent as a Bearer key.")
@click.option(
    "--ca-file",
    type=click.Path(exists=True, dir_okay=False),
    default=None,
    help="A CA to trust for https:// nodes (beside the certifi bundle).",
)
@click.pass_context
def client(
    ctx: click.Context, url: str, timeout: float, api_key: str | None, ca_file: str | None
) -> None:
    """Talk to a node through the Python client."""
    api = Client(url, timeouts=timeout, cache=False, api_key=api_key, ca_file=ca_file)
    ctx.obj = ctx.with_resource(api)


@client.command()
@click.argument("collection", required=False)
@click.pass_obj
def info(api: Client, collection: str | None) -> None:
    """One collection's info, or every collection's."""
    if collection:
        _echo(api.get_collection(collection))
    else:
        for found in api.list_collections():
            _echo(found)


@client.command()
@click.argument("collection")
@click.option("--dim", type=int, required=True)
@click.option("--metric", type=click.Choice(["cosine", "l2", "ip"]), default="cosine")
@click.pass_obj
def create(api: Client, collection: str, dim: int, metric: str) -> None:
    """Create a collection (no error when it exists)."""
    _echo(api.create_collection(collection, dim, metric, exist_ok=True))


@client.command()
@click.argument("collection")
@click.option("--vector", required=True, help="Comma-separated floats.")
@click.option("-k", type=int, default=10, show_default=True)
@click.option("--filter", "filter_json", default=None, help="A filter as JSON.")
@click.pass_obj
def search(api: Client, collection: str, vector: str, k: int, filter_json: str | None) -> None:
    """Print the k nearest records, best first, one JSON line each."""
    filters = json.loads(filter_json) if filter_json else None
    for hit in api.search_stream(collection, _vector(vector), k=k, filter=filters):
        _echo(hit)


@client.command()
@click.argument("collection")
@click.option("--vector", required=True, help="Comma-separated floats.")
@click.option("-k", type=int, default=None)
@click.option("--min-score", type=float, default=None)
@click.option("--count", type=int, default=None, help="Stop after this many matches.")
@click.pass_obj
def watch(
    api: Client,
    collection: str,
    vector: str,
    k: int | None,
    min_score: float | None,
    count: int | None,
) -> None:
    """Hold a standing query and print each match as it arrives (reconnects by itself)."""
    with api.session() as session:
        subscription = session.subscribe(collection, _vector(vector), k=k, min_score=min_score)
        for seen, match in enumerate(subscription, start=1):
            _echo(match)
            if count is not None and seen >= count:
                break
