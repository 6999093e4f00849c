"""The REST contract end to end: collections, records, idempotent writes, CLI."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import httpx
import numpy as np
import orjson

from ruvstream.testing import NodeProcess


def test_collection_lifecycle(node: NodeProcess) -> None:
    with httpx.Client(base_url=node.url) as http:
        created = http.put("/v1/collections/c", json={"dim": 3, "metric": "l2", "m": 8})
        assert created.status_code == 201
        assert created.json() | {"memory_bytes": 0} == {
            "name": "c",
            "dim": 3,
            "metric": "l2",
            "m": 8,
            "ef_construction": 200,
            "ef_search": 200,
            "index": "hnsw",
            "count": 0,
            "version": 0,
            "memory_bytes": 0,
        }
        assert [c["name"] for c in http.get("/v1/collections").json()["collections"]] == ["c"]
        assert http.delete("/v1/collections/c").json() == {"deleted": True}
        assert http.get("/v1/collections/c").status_code == 404
        # A dropped name can be created again, empty.
        assert http.put("/v1/collections/c", json={"dim": 3}).status_code == 201
        assert http.get("/v1/collections/c").json()["count"] == 0


def test_records_upsert_replace_get_delete_and_versions(node: NodeProcess) -> None:
    with httpx.Client(base_url=node.url) as http:
        http.put("/v1/collections/r", json={"dim": 2, "metric": "l2"}).raise_for_status()
        first = http.post(
            "/v1/collections/r/records",
            json={
                "records": [
                    {"id": "a", "vector": [0, 0], "metadata": {"v": 1}},
                    {"id": "b", "vector": [5, 5]},
                ]
            },
        ).json()
        assert first == {"upserted": 2, "version": 1}
        http.post(
            "/v1/collections/r/records",
            json={"records": [{"id": "a", "vector": [1, 1], "metadata": {"v": 2}}]},
        ).raise_for_status()
        assert http.get("/v1/collections/r/records/a").json() == {
            "id": "a",
            "vector": [1.0, 1.0],
            "metadata": {"v": 2},
        }
        hits = http.post("/v1/collections/r/search", json={"vector": [1, 1], "k": 5}).json()
        assert [h["id"] for h in hits["hits"]] == ["a", "b"]
        assert hits["hits"][0]["score"] == 0.0  # -L2 distance: higher is better
        assert http.delete("/v1/collections/r/records/a").json()["deleted"] == 1
        assert http.delete("/v1/collections/r/records/a").json()["deleted"] == 0
        batch = http.post("/v1/collections/r/records/delete", json={"ids": ["b", "zz"]}).json()
        assert batch["deleted"] == 1
        info = http.get("/v1/collections/r").json()
        assert info["count"] == 0
        assert info["version"] == 4


def test_binary_upsert(node: NodeProcess) -> None:
    matrix = np.arange(12, dtype="<f4").reshape(3, 4)
    with httpx.Client(base_url=node.url) as http:
        http.put("/v1/collections/b", json={"dim": 4, "metric": "ip"}).raise_for_status()
        answer = http.post(
            "/v1/collections/b/records",
            content=matrix.tobytes(),
            headers={"Content-Type": "application/octet-stream", "X-Ids": "x,y,z"},
        )
        assert answer.json()["upserted"] == 3
        assert http.get("/v1/collections/b/records/z").json()["vector"] == [8, 9, 10, 11]
        short = http.post(
            "/v1/collections/b/records",
            content=matrix.tobytes()[:-4],
            headers={"Content-Type": "application/octet-stream", "X-Ids": "x,y,z"},
        )
        assert short.status_code == 400


def test_idempotency_key_applies_a_retried_write_once(node: NodeProcess) -> None:
    with httpx.Client(base_url=node.url) as http:
        http.put("/v1/collections/i", json={"dim": 2}).raise_for_status()
        body = {"records": [{"id": "a", "vector": [1, 0]}]}
        headers = {"Idempotency-Key": "k-1"}
        first = http.post("/v1/collections/i/records", json=body, headers=headers)
        again = http.post("/v1/collections/i/records", json=body, headers=headers)
        assert first.json()["version"] == 1
        assert again.headers["Idempotent-Replayed"] == "true"
        assert again.json()["version"] == 1  # nothing was applied the second time
        # The key survives a crash: it is rebuilt from the WAL.
        node.kill()
        node.start()
        after = http.post(f"{node.url}/v1/collections/i/records", json=body, headers=headers)
        assert after.json()["duplicate"] is True
        assert http.get(f"{node.url}/v1/collections/i").json()["version"] == 1


def test_load_command_imports_npy_and_jsonl(node: NodeProcess, tmp_path: Path) -> None:
    matrix = np.random.default_rng(0).normal(size=(250, 6)).astype(np.float32)
    np.save(tmp_path / "v.npy", matrix)
    lines = [
        orjson.dumps({"id": f"j{i}", "vector": matrix[i].tolist(), "metadata": {"i": i}})
        for i in range(40)
    ]
    (tmp_path / "v.jsonl").write_bytes(b"\n".join(lines) + b"\n")
    for path, name in [(tmp_path / "v.npy", "npy"), (tmp_path / "v.jsonl", "jsonl")]:
        done = subprocess.run(
            [
                sys.executable,
                "-m",
                "ruvstream",
                "load",
                str(path),
                "--url",
                node.url,
                "--collection",
                name,
                "--batch-size",
                "64",
            ],
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert done.returncode == 0, done.stderr
    with httpx.Client(base_url=node.url) as http:
        assert http.get("/v1/collections/npy").json()["count"] == 250
        assert http.get("/v1/collections/jsonl").json()["count"] == 40
        assert http.get("/v1/collections/jsonl/records/j7").json()["metadata"] == {"i": 7}


def test_config_show_prints_effective_settings() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "ruvstream", "config", "show", "--fsync", "interval"],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    config = json.loads(done.stdout)
    assert config["storage"]["fsync"] == "interval"
    assert config["server"]["port"] == 8470
