"""A real English text corpus on every machine: the running interpreter's standard library.

Sentences come from the stdlib's ``.py`` sources, read and never imported:
module, class and function docstrings (``ast``), blocks of consecutive
``#`` comment lines (``tokenize``), and the language reference topics
``pydoc`` ships (``pydoc_data.topics``). Each
sentence is whitespace-normalised, kept if it reads like prose (length and
letter share), and de-duplicated. The order is by a BLAKE2 digest of the
text, so it does not depend on the file walk and any prefix is a fair mix
of modules; the first ``queries`` sentences are held out as queries and the
rest are the base rows.

The corpus depends on the interpreter version (another Python has other
docstrings); ``provenance`` records what a set was built from.
"""

from __future__ import annotations

import ast
import hashlib
import io
import re
import sys
import sysconfig
import tokenize
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = ["Corpus", "extract", "sentences_of", "stdlib_root"]

MIN_CHARS = 24
MAX_CHARS = 400
_SKIP_DIRS = {"site-packages", "dist-packages", "__pycache__", "lib2to3"}
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z`'\"(])")
_BLANK_LINE = re.compile(r"\n\s*\n")
_SPACES = re.compile(r"\s+")


@dataclass(frozen=True)
class Corpus:
    """Held-out query sentences, base sentences, and where they came from."""

    queries: list[str]
    base: list[str]
    provenance: dict[str, Any]


def stdlib_root() -> Path:
    return Path(sysconfig.get_paths()["stdlib"])


def _prose(text: str) -> bool:
    if not MIN_CHARS <= len(text) <= MAX_CHARS:
        return False
    letters = sum(c.isalpha() for c in text)
    return letters >= 0.6 * len(text) and " " in text and not text.startswith((">>>", "..."))


def sentences_of(text: str) -> Iterator[str]:
    """Prose sentences of a docstring: paragraphs split at sentence ends, spaces normalised."""
    for paragraph in _BLANK_LINE.split(text):
        flat = _SPACES.sub(" ", paragraph).strip()
        for sentence in _SENTENCE_END.split(flat):
            if _prose(sentence):
                yield sentence


def _docstrings(source: str) -> Iterator[str]:
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError):  # test fixtures with bad syntax on purpose
        return
    kinds = (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)
    for node in ast.walk(tree):
        if isinstance(node, kinds) and (doc := ast.get_docstring(node, clean=True)):
            yield doc


def _comments(source: str) -> Iterator[str]:
    """Runs of ``#`` comments on consecutive lines, each joined into one paragraph."""
    block: list[str] = []
    last = -2
    try:
        for token in tokenize.generate_tokens(io.StringIO(source).readline):
            if token.type != tokenize.COMMENT:
                continue
            if token.start[0] != last + 1 and block:
                yield " ".join(block)
                block = []
            block.append(token.string.lstrip("#").strip())
            last = token.start[0]
    except (tokenize.TokenError, SyntaxError):  # bad syntax on purpose (test fixtures)
        pass
    if block:
        yield " ".join(block)


def _topics(root: Path) -> Iterator[str]:
    """The language reference text of ``pydoc_data/topics.py`` (a dict of str literals)."""
    path = root / "pydoc_data" / "topics.py"
    if not path.exists():
        return
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.Dict):
            for value in node.values:
                if isinstance(value, ast.Constant) and isinstance(value.value, str):
                    yield value.value


def _sources(root: Path) -> list[Path]:
    files = [p for p in root.rglob("*.py") if not _SKIP_DIRS & set(p.relative_to(root).parts)]
    return sorted(files, key=lambda p: p.relative_to(root).as_posix())


def _texts(root: Path, files: Iterable[Path]) -> Iterator[str]:
    for path in files:
        try:
            source = path.read_text(encoding="utf-8")
        except (UnicodeDecodeError, OSError):
            continue
        yield from _docstrings(source)
        yield from _comments(source)
    yield from _topics(root)


def _digest(text: str) -> bytes:
    return hashlib.blake2b(text.encode("utf-8"), digest_size=16).digest()


def extract(queries: int, rows: int | None = None, root: Path | None = None) -> Corpus:
    """``queries`` held-out sentences and up to ``rows`` base sentences (all with None)."""
    root = root or stdlib_root()
    files = _sources(root)
    unique = {s for text in _texts(root, files) for s in sentences_of(text)}
    ordered = sorted(unique, key=_digest)
    if len(ordered) <= queries:
        raise ValueError(f"{root} has {len(ordered)} sentences, not more than {queries} queries")
    held, rest = ordered[:queries], ordered[queries:]
    base = rest if rows is None else rest[:rows]
    listing = hashlib.sha256("\n".join(ordered).encode("utf-8")).hexdigest()
    provenance = {
        "source": "docstrings and comments of the Python standard library, pydoc_data topics",
        "python": sys.version.split()[0],
        "implementation": sys.implementation.name,
        "stdlib": str(root),
        "files": len(files),
        "sentences": len(ordered),
        "sentences_sha256": listing,
        "order": "blake2b-128 digest of each sentence; the first `queries` are the queries",
    }
    return Corpus(held, base, provenance)
