"""``ruvstream load``: import vectors from .npy or .jsonl into a running node."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import click
import httpx
import numpy as np
import orjson
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeRemainingColumn

from ruvstream.errors import from_payload

__all__ = ["load"]


def _jsonl_batches(path: Path, batch: int) -> Iterator[list[dict[str, Any]]]:
    chunk: list[dict[str, Any]] = []
    with path.open("rb") as f:
        for number, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                record = orjson.loads(line)
            except orjson.JSONDecodeError as exc:
                raise click.ClickException(f"{path}:{number}: malformed JSON: {exc}") from None
            chunk.append(record)
            if len(chunk) >= batch:
                yield chunk
                chunk = []
    if chunk:
        yield chunk


def _count_lines(path: Path) -> int:
    with path.open("rb") as f:
        return sum(1 for line in f if line.strip())


def _check(response: httpx.Response) -> None:
    if response.status_code >= 400:
        try:
            error = from_payload(response.json()["error"], response.status_code)
        except (ValueError, KeyError):
            raise click.ClickException(f"HTTP {response.status_code}: {response.text}") from None
        raise click.ClickException(f"{error.code}: {error.message}")


def _ensure_collection(http: httpx.Client, name: str, dim: int, metric: str) -> None:
    response = http.get(f"/v1/collections/{name}")
    if response.status_code == 404:
        _check(http.put(f"/v1/collections/{name}", json={"dim": dim, "metric": metric}))
    else:
        _check(response)


@click.command()
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--url", default="http://127.0.0.1:8470", show_default=True)
@click.option("--collection", required=True)
@click.option(
    "--metric",
    type=click.Choice(["cosine", "l2", "ip"]),
    default="cosine",
    show_default=True,
    help="Used when the collection has to be created.",
)
@click.option("--batch-size", type=int, default=2000, show_default=True)
@click.option("--limit", type=int, default=None, help="Import at most this many rows.")
@click.option("--id-prefix", default="", help=".npy rows get ids PREFIX + row number.")
def load(
    path: Path,
    url: str,
    collection: str,
    metric: str,
    batch_size: int,
    limit: int | None,
    id_prefix: str,
) -> None:
    """Import PATH (.npy matrix, or .jsonl of {"id", "vector", "metadata"})."""
    with (
        httpx.Client(base_url=url, timeout=120.0) as http,
        Progress(
            "[progress.description]{task.description}",
            BarColumn(),
            MofNCompleteColumn(),
            TimeRemainingColumn(),
        ) as progress,
    ):
        if path.suffix == ".npy":
            matrix = np.load(path, mmap_mode="r")
            if matrix.ndim != 2:
                raise click.ClickException(f"{path} must hold a 2-d matrix, not {matrix.shape}")
            rows = matrix.shape[0] if limit is None else min(limit, matrix.shape[0])
            _ensure_collection(http, collection, int(matrix.shape[1]), metric)
            task = progress.add_task(f"loading {path.name}", total=rows)
            for start in range(0, rows, batch_size):
                block = np.ascontiguousarray(
                    matrix[start : start + batch_size][: rows - start], dtype="<f4"
                )
                ids = ",".join(f"{id_prefix}{i}" for i in range(start, start + len(block)))
                _check(
                    http.post(
                        f"/v1/collections/{collection}/records",
                        content=block.tobytes(),
                        headers={"Content-Type": "application/octet-stream", "X-Ids": ids},
                    )
                )
                progress.advance(task, len(block))
            return
        if path.suffix != ".jsonl":
            raise click.ClickException("PATH must end in .npy or .jsonl")
        total = _count_lines(path)
        task = progress.add_task(f"loading {path.name}", total=total if limit is None else limit)
        done = 0
        for chunk in _jsonl_batches(path, batch_size):
            if limit is not None:
                chunk = chunk[: limit - done]
            if done == 0:
                _ensure_collection(http, collection, len(chunk[0]["vector"]), metric)
            _check(http.post(f"/v1/collections/{collection}/records", json={"records": chunk}))
            done += len(chunk)
            progress.advance(task, len(chunk))
            if limit is not None and done >= limit:
                break
