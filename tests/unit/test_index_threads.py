"""Index threads share the process's CPU affinity, not the machine's core count."""

from __future__ import annotations

import os
import subprocess
import sys

import faiss
import pytest

from ruvstream.engine.read_scheduler import _index_pool, usable_cores

pytestmark = pytest.mark.skipif(not hasattr(os, "sched_getaffinity"), reason="no CPU affinity here")


def test_usable_cores_follow_the_affinity() -> None:
    assert usable_cores() == len(os.sched_getaffinity(0))


def test_each_index_thread_takes_its_share_of_the_usable_cores() -> None:
    pool = _index_pool(1)
    try:
        assert pool.submit(faiss.omp_get_max_threads).result() == usable_cores()
    finally:
        pool.shutdown()


def test_a_process_pinned_to_one_core_gives_its_index_thread_one_openmp_thread() -> None:
    core = min(os.sched_getaffinity(0))
    script = (
        "import os, faiss\n"
        f"os.sched_setaffinity(0, {{{core}}})\n"
        "from ruvstream.engine.read_scheduler import _index_pool\n"
        "pool = _index_pool(1)\n"
        "print(pool.submit(faiss.omp_get_max_threads).result())\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=120, check=True
    )
    assert done.stdout.split() == ["1"]
