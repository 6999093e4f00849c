"""On real nodes (WAL, executor, subscriptions): any delivery order with
duplicates through ``apply_remote`` ends in the same state, and a re-delivered
op reports no change; state survives a restart from the WAL."""

from __future__ import annotations

import asyncio
import tempfile
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from ruvstream.config import NodeSettings, Settings, StorageSettings
from ruvstream.core.records import OpRecord
from ruvstream.engine import Node

from .test_lww_property import CREATE, oracle, state, write_ops


def _settings(data_dir: Path) -> Settings:
    return Settings(
        node=NodeSettings(region="receiver", node_id="receiver-1"),
        storage=StorageSettings(data_dir=data_dir, fsync="off"),
    )


async def _deliver(data_dir: Path, ops: list[OpRecord]) -> tuple[object, list[bool], object]:
    node = await Node.open(_settings(data_dir))
    try:
        await node.apply_remote(CREATE)
        changed = [await node.apply_remote(op) for op in ops]
        live = state(node.catalog)
    finally:
        await node.close(snapshot=False)
    reopened = await Node.open(_settings(data_dir))
    try:
        recovered = state(reopened.catalog)
    finally:
        await reopened.close(snapshot=False)
    return live, changed, recovered


@settings(max_examples=12, deadline=None)
@given(ops=write_ops(), data=st.data())
def test_reordered_and_duplicated_deliveries_converge_on_real_nodes(
    ops: list[OpRecord], data: st.DataObject
) -> None:
    duplicates = data.draw(st.lists(st.sampled_from(ops), min_size=1, max_size=6))
    shuffled = list(data.draw(st.permutations(ops + duplicates)))
    with tempfile.TemporaryDirectory() as scratch:
        first, _, first_recovered = asyncio.run(_deliver(Path(scratch) / "a", ops))
        second, changed, second_recovered = asyncio.run(_deliver(Path(scratch) / "b", shuffled))
    assert first == second == first_recovered == second_recovered == oracle(ops)
    # every op delivered a second time is a no-op the second time
    seen: set[tuple[int, str]] = set()
    for op, did_change in zip(shuffled, changed, strict=True):
        if op.version in seen:
            assert not did_change
        seen.add(op.version)
