"""The stdlib text corpus: prose sentences, de-duplicated, in an order that does not drift."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from ruvstream.bench import corpus

_MODULES = ("textwrap.py", "fnmatch.py", "json", "pydoc_data")


@pytest.fixture(scope="module")
def small_stdlib(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A few real stdlib modules (and pydoc's topics) copied out: the corpus of a small Python."""
    root = tmp_path_factory.mktemp("stdlib")
    for name in _MODULES:
        source = corpus.stdlib_root() / name
        if source.is_dir():
            shutil.copytree(source, root / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy(source, root / name)
    return root


def test_extraction_is_deterministic_non_empty_and_holds_queries_out(small_stdlib: Path) -> None:
    first = corpus.extract(20, root=small_stdlib)
    again = corpus.extract(20, root=small_stdlib)
    assert first == again
    assert len(first.queries) == 20 and len(first.base) > 500
    assert not set(first.queries) & set(first.base)
    assert len(set(first.base)) == len(first.base), "de-duplicated"
    assert first.provenance["sentences"] == 20 + len(first.base)
    assert first.provenance["files"] >= 4 and first.provenance["python"]


def test_rows_are_a_prefix_so_small_builds_are_subsets(small_stdlib: Path) -> None:
    whole = corpus.extract(10, root=small_stdlib)
    some = corpus.extract(10, rows=50, root=small_stdlib)
    assert some.queries == whole.queries and some.base == whole.base[:50]


def test_docstrings_comments_and_topics_all_feed_it(small_stdlib: Path) -> None:
    text = corpus.extract(10, root=small_stdlib)
    everything = set(text.base) | set(text.queries)
    assert "Wrap a single paragraph of text, returning a list of wrapped lines." in everything
    assert (
        "Hardcode the recognized whitespace characters to the US-ASCII whitespace characters."
        in (everything)
    )
    assert len(everything) > 2000, "pydoc's reference topics are in"


def test_the_order_is_by_digest_so_a_new_file_only_inserts(
    small_stdlib: Path, tmp_path: Path
) -> None:
    text = corpus.extract(10, root=small_stdlib)
    before = text.queries + text.base
    shutil.copytree(small_stdlib, tmp_path / "copy")
    added = "A sentence that no module of the standard library has ever said."
    (tmp_path / "copy" / "zzz_new.py").write_text(f'"""{added}"""\n')
    grown = corpus.extract(10, root=tmp_path / "copy")
    after = grown.queries + grown.base
    assert added in after and [s for s in after if s != added] == before


def test_sentences_are_prose_with_normalised_spaces() -> None:
    doc = """Return the value of the thing.  It is
    computed only once, then cached.

    >>> thing()
    42

    Short."""
    assert list(corpus.sentences_of(doc)) == [
        "Return the value of the thing.",
        "It is computed only once, then cached.",
    ]


def test_too_few_sentences_for_the_queries(tmp_path: Path) -> None:
    (tmp_path / "one.py").write_text('"""A module with only one docstring in it, alone."""\n')
    with pytest.raises(ValueError, match="not more than 5 queries"):
        corpus.extract(5, root=tmp_path)
