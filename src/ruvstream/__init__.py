"""ruvstream: streaming vector search, durable and replicated."""

__version__ = "0.1.0"
__all__ = ["__version__"]
