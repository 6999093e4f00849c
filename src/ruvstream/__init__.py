"""ruvstream: streaming vector search, durable and replicated."""

import os

# OpenMP (faiss) reads this once, when the library loads. Its default spins
# idle worker threads for a while after each parallel region, burning the
# core the event loop needs between batches; passive threads sleep instead.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

__version__ = "0.1.0"
__all__ = ["__version__"]
