"""Regenerate ``v1/`` from ``proto/ruvstream/v1/vector_search.proto`` (a source checkout).

Run by path, so that it works while ``v1/`` is missing or stale:

    .venv/bin/python src/ruvstream/api/grpc/codegen.py

protoc with the gRPC and mypy-protobuf plugins (the dev extra), then one
rewrite: protoc names modules after the proto's path (``ruvstream.v1``),
and here they live in ``ruvstream.api.grpc.v1``. The proto keeps its path,
so the wire names (``ruvstream.v1.VectorSearch``) stay what clients expect.
``tests/grpc/test_codegen.py`` checks the committed files are what this makes.
"""

from __future__ import annotations

import re
import sys
import tempfile
from pathlib import Path

__all__ = ["GENERATED", "PROTO", "PROTO_ROOT", "generate", "main"]

_HERE = Path(__file__).resolve().parent
PROTO_ROOT = _HERE.parents[3] / "proto"
PROTO = "ruvstream/v1/vector_search.proto"
GENERATED = _HERE / "v1"
_OUTPUTS = (
    "vector_search_pb2.py",
    "vector_search_pb2.pyi",
    "vector_search_pb2_grpc.py",
    "vector_search_pb2_grpc.pyi",
)
_MODULE = re.compile(r"\bruvstream\.v1(?=\.vector_search_pb2\b| import\b)")


def generate() -> dict[str, str]:
    """The generated files' names and texts, as they belong in ``v1/``."""
    import grpc_tools
    from grpc_tools import protoc

    bin_dir = Path(sys.executable).parent
    includes = Path(grpc_tools.__file__).parent / "_proto"
    with tempfile.TemporaryDirectory() as out:
        status = protoc.main(
            [
                "protoc",
                f"-I{PROTO_ROOT}",
                f"-I{includes}",
                f"--plugin=protoc-gen-mypy={bin_dir / 'protoc-gen-mypy'}",
                f"--plugin=protoc-gen-mypy_grpc={bin_dir / 'protoc-gen-mypy_grpc'}",
                f"--python_out={out}",
                f"--grpc_python_out={out}",
                f"--mypy_out={out}",
                f"--mypy_grpc_out={out}",
                PROTO,
            ]
        )
        if status != 0:
            raise RuntimeError(f"protoc failed with status {status}")
        made = Path(out) / "ruvstream" / "v1"
        return {
            name: _MODULE.sub("ruvstream.api.grpc.v1", (made / name).read_text())
            for name in _OUTPUTS
        }


def main() -> None:
    for name, text in generate().items():
        (GENERATED / name).write_text(text)
        print(f"wrote {GENERATED / name}")


if __name__ == "__main__":
    main()
