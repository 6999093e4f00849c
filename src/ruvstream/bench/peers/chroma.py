"""Chroma's server as a peer: ``chroma run`` on 127.0.0.1, driven over its REST API.

The collection is created with the same HNSW parameters as ruvstream
(cosine, max_neighbors 16, ef_construction 200). The local server keeps the
loaded index with the ``ef_search`` it was built with (updating the
configuration later does not change recall), so a new ``ef`` rebuilds the
collection; the comparison's bisection keeps those rebuilds few.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import orjson

from ruvstream.bench.datasets import Dataset
from ruvstream.bench.peers.base import EF_CONSTRUCTION, HNSW_M, MissingExtraError
from ruvstream.bench.transports import RequestFailed, Transport
from ruvstream.client.pool import pooled_http_client

__all__ = ["ChromaEngine"]

_API = "/api/v2/tenants/default_tenant/databases/default_database"
_ADD_BATCH = 2000


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def _config(ef: int) -> dict[str, Any]:
    return {
        "hnsw": {
            "space": "cosine",
            "max_neighbors": HNSW_M,
            "ef_construction": EF_CONSTRUCTION,
            "ef_search": int(ef),
        }
    }


class ChromaEngine:
    name = "chroma"

    def __init__(self) -> None:
        self.url: str | None = None
        self.collection_id: str | None = None
        self._data: Dataset | None = None
        self._ef = 0
        self.server_pid: int | None = None

    def command(self) -> Path:
        """The ``chroma`` command of the chromadb package.

        Looked for beside this interpreter first: a package installed into a
        virtualenv puts its commands there, whether or not that is on PATH.
        """
        beside = Path(sys.executable).parent / "chroma"
        if beside.is_file() and os.access(beside, os.X_OK):
            return beside
        found = shutil.which("chroma")
        if found is None:
            raise MissingExtraError(
                f"the chroma peer needs the chromadb package (extra 'peers'): no chroma "
                f"command beside {sys.executable} or on PATH"
            )
        return Path(found)

    def check(self) -> None:
        self.command()

    @contextlib.contextmanager
    def start(self, workdir: Path) -> Iterator[None]:
        binary = self.command()
        port = _free_port()
        path = workdir / "chroma"
        path.mkdir(parents=True, exist_ok=True)
        command = [str(binary), "run", "--path", str(path), "--host", "127.0.0.1"]
        with (path / "server.log").open("ab") as log:
            process = subprocess.Popen(
                [*command, "--port", str(port)],
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        try:
            self.url, self.server_pid = f"http://127.0.0.1:{port}", process.pid
            self._wait(process)
            yield
        finally:
            self.url = self.server_pid = None
            process.terminate()
            try:
                process.wait(30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()

    def _wait(self, process: subprocess.Popen[bytes]) -> None:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise RuntimeError(f"chroma exited with {process.returncode}")
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"{self.url}/api/v2/heartbeat", timeout=1).status_code == 200:
                    return
            time.sleep(0.1)
        raise TimeoutError("chroma did not start")

    async def load(self, data: Dataset) -> None:
        self._data = data
        await self._build(64)

    async def create(self, dim: int, ef: int) -> None:
        """An empty collection built for ``ef``, for the streaming-ingest case."""
        async with httpx.AsyncClient(base_url=self.url or "", timeout=60) as client:
            await client.delete(f"{_API}/collections/bench")
            created = await client.post(
                f"{_API}/collections", json={"name": "bench", "configuration": _config(ef)}
            )
            created.raise_for_status()
            self.collection_id = created.json()["id"]
        self._ef = ef

    async def _build(self, ef: int) -> None:
        assert self._data is not None, "load the dataset first"
        config = _config(ef)
        base = self._data.base
        async with httpx.AsyncClient(base_url=self.url or "", timeout=600) as client:
            await client.delete(f"{_API}/collections/bench")
            created = await client.post(
                f"{_API}/collections", json={"name": "bench", "configuration": config}
            )
            created.raise_for_status()
            self.collection_id = created.json()["id"]
            for start in range(0, len(base), _ADD_BATCH):
                block = base[start : start + _ADD_BATCH].tolist()
                body = {"ids": [str(start + i) for i in range(len(block))], "embeddings": block}
                response = await client.post(
                    f"{_API}/collections/{self.collection_id}/add",
                    content=orjson.dumps(body),
                    headers={"Content-Type": "application/json"},
                )
                response.raise_for_status()
        self._ef = ef

    async def transport(self, ef: int) -> Transport:
        if ef != self._ef:
            await self._build(ef)
        return _ChromaTransport(self.url or "", self.collection_id or "")


class _ChromaTransport:
    protocol = "chroma-http"

    def __init__(self, url: str, collection_id: str) -> None:
        # The same pooled client as ruvstream's own transport: a fair comparison.
        self._client = pooled_http_client(url, max_connections=64, timeout=None)
        self._path = f"{_API}/collections/{collection_id}"

    async def search(self, collection: str, vector: list[float], k: int) -> list[str]:
        body: dict[str, Any] = {"query_embeddings": [vector], "n_results": k, "include": []}
        try:
            response = await self._client.post(
                f"{self._path}/query",
                content=orjson.dumps(body),
                headers={"Content-Type": "application/json"},
            )
        except httpx.HTTPError as exc:
            raise RequestFailed(type(exc).__name__.lower(), str(exc)) from exc
        if response.status_code != 200:
            raise RequestFailed(f"http_{response.status_code}", response.text[:200])
        return [str(i) for i in response.json()["ids"][0]]

    async def upsert(self, collection: str, rid: str, vector: list[float]) -> None:
        body = {"ids": [rid], "embeddings": [vector]}
        response = await self._client.post(
            f"{self._path}/upsert",
            content=orjson.dumps(body),
            headers={"Content-Type": "application/json"},
        )
        if response.status_code != 200:
            raise RequestFailed(f"http_{response.status_code}", response.text[:200])

    async def upsert_many(
        self, collection: str, ids: list[str], vectors: list[list[float]]
    ) -> None:
        try:
            response = await self._client.post(
                f"{self._path}/upsert",
                content=orjson.dumps({"ids": ids, "embeddings": vectors}),
                headers={"Content-Type": "application/json"},
            )
        except httpx.HTTPError as exc:
            raise RequestFailed(type(exc).__name__.lower(), str(exc)) from exc
        if response.status_code != 200:
            raise RequestFailed(f"http_{response.status_code}", response.text[:200])

    async def aclose(self) -> None:
        await self._client.aclose()
