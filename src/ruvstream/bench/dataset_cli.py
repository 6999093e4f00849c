"""``ruvstream bench dataset``: build and list the datasets made on this machine.

    ruvstream bench dataset build minilm-384 [--rows 20000] [--queries 1000]
    ruvstream bench dataset list

A build needs the extra ``embed`` (``scripts/bootstrap embed``); using a
built set needs nothing beyond the base install.
"""

from __future__ import annotations

import json
from pathlib import Path

import click
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from ruvstream.bench import built, minilm
from ruvstream.bench.datasets import cache_dir

__all__ = ["dataset"]


@click.group("dataset")
def dataset() -> None:
    """Datasets built here: real text embedded offline, with exact ground truth."""


@dataset.command("build")
@click.argument("name", type=click.Choice(sorted(built.BUILT)))
@click.option("--rows", type=int, default=20_000, show_default=True, help="Base rows (0: all).")
@click.option("--queries", type=int, default=1000, show_default=True, help="Held-out queries.")
@click.option("--batch", type=int, default=64, show_default=True, help="Sentences per forward.")
@click.option("--cache", type=click.Path(path_type=Path), default=None, help="Default: the cache.")
def build_command(name: str, rows: int, queries: int, batch: int, cache: Path | None) -> None:
    """Embed the stdlib corpus and store vectors, queries and truth under the cache."""
    if rows < 0 or not 1 <= queries <= 10_000:
        raise click.BadParameter("rows >= 0 and queries in 1..10000")
    try:
        minilm.require()
    except minilm.MissingEmbedExtraError as exc:
        raise click.ClickException(str(exc)) from exc
    root = cache or cache_dir()
    columns = (TextColumn(name), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, console=Console(stderr=True), transient=True) as bar:
        task = bar.add_task(name, total=rows + queries if rows else None)

        def tick(n: int) -> None:
            bar.update(task, advance=n)

        path = minilm.build(rows or None, queries, root, batch=batch, tick=tick)
    meta = json.loads((path / "meta.json").read_text())
    click.echo(
        f"{name}: {meta['rows']} rows, {meta['queries']} queries, {meta['dim']}-d, "
        f"embedded in {meta['embed_seconds']:.0f} s, in {path}"
    )


@dataset.command("list")
@click.option("--cache", type=click.Path(path_type=Path), default=None, help="Default: the cache.")
def list_command(cache: Path | None) -> None:
    """Each buildable set and whether (and from what) it is built here."""
    root = cache or cache_dir()
    for name in sorted(built.BUILT):
        path = built.where(name, root)
        if not built.is_built(name, root):
            click.echo(f"{name}: not built (ruvstream bench dataset build {name})")
            continue
        meta = json.loads((path / "meta.json").read_text())
        source = meta.get("corpus", {})
        click.echo(
            f"{name}: {meta['rows']} rows, {meta['queries']} queries, {meta['dim']}-d, "
            f"Python {source.get('python', '?')} stdlib, {path}"
        )
