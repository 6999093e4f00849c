"""The apply queue: writes queued together share one trip, in order, each with its own answer."""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

from ruvstream.core.records import RecordData, vector_to_bytes
from ruvstream.engine.apply import Catalog
from ruvstream.engine.apply_queue import ApplyQueue
from tests.unit.conftest import create, record, upsert


async def test_ops_queued_during_a_trip_share_the_next_and_keep_their_order() -> None:
    catalog = Catalog()
    with ThreadPoolExecutor(1) as executor:
        queue = ApplyQueue(catalog, executor)
        await queue.apply([create(1)])
        # Queued before the loop runs the first trip: one trip for them all. The
        # newer value of "x" comes first, so order decides what each op reports.
        answers = await asyncio.gather(
            queue.apply([upsert(20, record("x", 2.0))]),
            queue.apply([upsert(10, record("x", 1.0)), upsert(11, record("y", 3.0))]),
            queue.apply([upsert(12, record("z", 4.0))]),
        )
    assert queue.trips == 2
    changed = [[o.changed for o in outcomes] for outcomes in answers]
    assert changed == [[True], [False, True], [True]]
    stored = catalog.collections["c"].get("x")
    assert stored is not None and stored.vector.tolist()[0] == 2.0


async def test_a_failing_op_fails_its_own_caller_only() -> None:
    catalog = Catalog()
    with ThreadPoolExecutor(1) as executor:
        queue = ApplyQueue(catalog, executor)
        await queue.apply([create(1)])
        short = RecordData("bad", vector_to_bytes(np.zeros(3, dtype=np.float32)), {})
        good, bad, after = await asyncio.gather(
            queue.apply([upsert(10, record("a", 1.0))]),
            queue.apply([upsert(11, short)]),
            queue.apply([upsert(12, record("b", 2.0))]),
            return_exceptions=True,
        )
    assert isinstance(bad, Exception)
    assert not isinstance(good, BaseException) and good[0].changed
    assert not isinstance(after, BaseException) and after[0].changed
    assert catalog.collections["c"].count == 2


async def test_an_op_whose_caller_gave_up_is_applied_all_the_same() -> None:
    catalog = Catalog()
    with ThreadPoolExecutor(1) as executor:
        queue = ApplyQueue(catalog, executor)
        await queue.apply([create(1)])
        waiting = asyncio.ensure_future(queue.apply([upsert(10, record("a", 1.0))]))
        await asyncio.sleep(0)
        waiting.cancel()
        await queue.apply([upsert(11, record("b", 2.0))])
    assert catalog.collections["c"].count == 2
    with pytest.raises(asyncio.CancelledError):
        await waiting
