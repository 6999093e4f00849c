"""CPU pinning for benchmarks: which cores a process (and every thread of it) may run on.

Linux only (``os.sched_setaffinity``); elsewhere ``pin`` does nothing and says so.
A process started while its parent's thread is pinned inherits the mask from
its first instruction, so thread pools sized from the mask at start-up (OpenMP
in the node) are sized for the cores it will really have.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path

__all__ = ["available_cpus", "parse_cpus", "pin_process", "pinned_thread"]


def available_cpus() -> frozenset[int]:
    if not hasattr(os, "sched_getaffinity"):
        return frozenset()
    return frozenset(os.sched_getaffinity(0))


def parse_cpus(text: str | None) -> frozenset[int] | None:
    """``"0"``, ``"0,1"`` or ``"2-3"``; None or ``"all"``: not pinned. Cores must exist here."""
    if text is None or text.strip() in ("", "all"):
        return None
    cpus: set[int] = set()
    for part in text.split(","):
        low, _, high = part.strip().partition("-")
        cpus.update(range(int(low), int(high or low) + 1))
    missing = cpus - available_cpus()
    if missing:
        raise ValueError(
            f"no CPU {sorted(missing)} available here (have {sorted(available_cpus())})"
        )
    return frozenset(cpus)


def pin_process(pid: int, cpus: frozenset[int] | None) -> None:
    """Pin every thread ``pid`` has now; threads it makes later inherit their maker's mask."""
    if cpus is None or not hasattr(os, "sched_setaffinity"):
        return
    tasks = Path(f"/proc/{pid}/task")
    for tid in [int(t.name) for t in tasks.iterdir()] if tasks.is_dir() else [pid]:
        with contextlib.suppress(ProcessLookupError):  # a thread that just ended
            os.sched_setaffinity(tid, cpus)


@contextlib.contextmanager
def pinned_thread(cpus: frozenset[int] | None) -> Iterator[None]:
    """Run the block with this thread pinned (processes it starts inherit it), then unpin."""
    if cpus is None or not hasattr(os, "sched_setaffinity"):
        yield
        return
    before = os.sched_getaffinity(0)
    os.sched_setaffinity(0, cpus)
    try:
        yield
    finally:
        os.sched_setaffinity(0, before)
