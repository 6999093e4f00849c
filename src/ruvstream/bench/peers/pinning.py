"""CPU pinning and CPU accounting over whole process trees, read from /proc.

A fair comparison keeps the engine and the load generator on disjoint cores
and charges each engine for every process it runs (PostgreSQL forks a
backend per connection, Chroma and ruvstream run threads). Affinity is a
per-thread property in Linux, so pinning a process means every task in
``/proc/<pid>/task``; children forked later inherit their parent's mask.
CPU time is ``utime + stime + cutime + cstime`` (fields 14 to 17 of
``/proc/<pid>/stat``) summed over the tree as it stands when read: a live
child counts itself, and one that exited and was reaped (a PostgreSQL
backend whose connection closed) counts in its parent's ``cutime``, so
nothing is counted twice and connections may close inside a measurement.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterable
from pathlib import Path

__all__ = [
    "cpu_seconds",
    "parse_cpus",
    "pin_self",
    "pin_tree",
    "process_tree",
    "tree_affinity",
]

_PROC = Path("/proc")


def parse_cpus(text: str) -> frozenset[int]:
    """``"0"``, ``"0,2"``, ``"0-3,6"`` as taskset -c reads them."""
    cpus: set[int] = set()
    for part in text.split(","):
        part = part.strip()
        if not part:
            continue
        low, _, high = part.partition("-")
        first, last = int(low), int(high or low)
        if first < 0 or last < first:
            raise ValueError(f"bad CPU range {part!r}")
        cpus.update(range(first, last + 1))
    if not cpus:
        raise ValueError("no CPUs named")
    return frozenset(cpus)


def _tasks(pid: int) -> list[int]:
    try:
        return [int(t.name) for t in (_PROC / str(pid) / "task").iterdir()]
    except FileNotFoundError:
        return []


def _children(pid: int) -> list[int]:
    out: list[int] = []
    for tid in _tasks(pid):
        with contextlib.suppress(FileNotFoundError, ProcessLookupError):
            text = (_PROC / str(pid) / "task" / str(tid) / "children").read_text()
            out.extend(int(c) for c in text.split())
    return out


def process_tree(pid: int) -> list[int]:
    """``pid`` and every live descendant, parents before children."""
    seen: list[int] = []
    pending = [pid]
    while pending:
        current = pending.pop(0)
        if current in seen or not (_PROC / str(current)).exists():
            continue
        seen.append(current)
        pending.extend(_children(current))
    return seen


def _pin_tasks(pid: int, cpus: frozenset[int]) -> None:
    for tid in _tasks(pid):
        with contextlib.suppress(ProcessLookupError):
            os.sched_setaffinity(tid, cpus)


def pin_tree(pid: int, cpus: Iterable[int]) -> list[int]:
    """Every thread of ``pid`` and its descendants onto ``cpus``; returns the pids pinned."""
    mask = frozenset(cpus)
    tree = process_tree(pid)
    for member in tree:
        _pin_tasks(member, mask)
    return tree


def pin_self(cpus: Iterable[int]) -> None:
    """This process (every thread, so the event loop and its workers) onto ``cpus``."""
    _pin_tasks(os.getpid(), frozenset(cpus))


def tree_affinity(pid: int) -> dict[int, frozenset[int]]:
    """The CPU mask of each process of the tree (its main thread's)."""
    out: dict[int, frozenset[int]] = {}
    for member in process_tree(pid):
        with contextlib.suppress(ProcessLookupError):
            out[member] = frozenset(os.sched_getaffinity(member))
    return out


def _stat_seconds(pid: int) -> float:
    try:
        text = (_PROC / str(pid) / "stat").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return 0.0
    # The command name may hold spaces and parentheses: fields start after the last ")".
    fields = text[text.rindex(")") + 2 :].split()
    ticks = sum(int(f) for f in fields[11:15])  # utime, stime, cutime, cstime
    return ticks / os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    """User plus system CPU seconds of ``pid``'s tree, reaped children included."""
    return sum(_stat_seconds(member) for member in process_tree(pid))
