"""Pinning and CPU accounting over real process trees (threads and forked children)."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from ruvstream.bench.peers.pinning import (
    cpu_seconds,
    parse_cpus,
    pin_tree,
    process_tree,
    tree_affinity,
)

# A child with three threads that spins the CPU for up to two minutes.
_SPIN = textwrap.dedent(
    """
    import threading, time
    for _ in range(3):
        threading.Thread(target=time.sleep, args=(120,), daemon=True).start()
    end = time.time() + 120
    while time.time() < end:
        pass
    """
)
# A parent of that child, which forks a second child only once the file named by
# argv[2] exists (after the test has pinned the tree).
_TREE = textwrap.dedent(
    """
    import os, subprocess, sys, time
    first = subprocess.Popen([sys.executable, "-c", sys.argv[1]])
    while not os.path.exists(sys.argv[2]):
        time.sleep(0.01)
    second = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)"])
    first.wait()
    """
)


def _poll(check: Callable[[], bool], what: str, deadline: float = 60.0) -> None:
    end = time.monotonic() + deadline
    while time.monotonic() < end:
        if check():
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.fixture
def tree(tmp_path: Path) -> Iterator[tuple[subprocess.Popen[bytes], Path]]:
    go = tmp_path / "go"
    process = subprocess.Popen([sys.executable, "-c", _TREE, _SPIN, str(go)])
    try:
        yield process, go
    finally:
        for pid in reversed(process_tree(process.pid)):
            os.kill(pid, 9)
        process.wait()


def test_parse_cpus_reads_taskset_lists() -> None:
    assert parse_cpus("0") == {0}
    assert parse_cpus("0-2,5") == {0, 1, 2, 5}
    with pytest.raises(ValueError):
        parse_cpus("3-1")
    with pytest.raises(ValueError):
        parse_cpus("")


def test_cpu_seconds_sum_the_whole_tree(tree: tuple[subprocess.Popen[bytes], Path]) -> None:
    process, _ = tree
    _poll(lambda: len(process_tree(process.pid)) >= 2, "the spinning child")
    child = process_tree(process.pid)[1]
    _poll(lambda: cpu_seconds(child) >= 0.3, "the child to burn CPU")
    # The parent itself only sleeps; the tree's figure carries the child's time.
    assert cpu_seconds(process.pid) >= cpu_seconds(child) >= 0.3
    assert cpu_seconds(2**22 + 12345) == 0.0  # no such process: nothing, not an error


def test_pinning_reaches_every_thread_and_later_children(
    tree: tuple[subprocess.Popen[bytes], Path],
) -> None:
    process, go = tree
    _poll(lambda: len(process_tree(process.pid)) >= 2, "the first child")
    child = process_tree(process.pid)[1]
    _poll(lambda: len(os.listdir(f"/proc/{child}/task")) >= 4, "the child's threads")
    cpu = min(os.sched_getaffinity(0))
    pinned = pin_tree(process.pid, {cpu})
    assert pinned[:2] == [process.pid, child]
    for tid in os.listdir(f"/proc/{child}/task"):
        assert os.sched_getaffinity(int(tid)) == {cpu}
    go.touch()  # now the parent forks a second child, which inherits the mask
    _poll(lambda: len(process_tree(process.pid)) >= 3, "the second child")
    masks = tree_affinity(process.pid)
    assert len(masks) == 3 and set(masks.values()) == {frozenset({cpu})}
