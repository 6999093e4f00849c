"""GloVe data for tests: vectors, exact ground truth, recall (``ruvstream.bench.glove``)."""

from ruvstream.bench.glove import exact_top_k, glove50, glove_available, recall_at_k

__all__ = ["exact_top_k", "glove50", "glove_available", "recall_at_k"]
