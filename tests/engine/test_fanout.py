"""Fan-out: every branch finishes, the first failure surfaces, the others are noted on it."""

from __future__ import annotations

import asyncio

import pytest

from syncloom.engine.fanout import settle_all, settle_both
from syncloom.errors import PermanentError, TransientError


def test_results_come_back_in_branch_order_whatever_order_they_finish_in():
    async def branch(n: int) -> int:
        await asyncio.sleep(0.01 * (3 - n))
        return n

    assert asyncio.run(settle_all(branch(n) for n in range(3))) == [0, 1, 2]


def test_branches_run_together_not_one_after_the_other():
    running, peak = 0, 0

    async def branch() -> None:
        nonlocal running, peak
        running += 1
        peak = max(peak, running)
        await asyncio.sleep(0.01)
        running -= 1

    asyncio.run(settle_all(branch() for _ in range(4)))
    assert peak == 4


def test_a_failure_waits_for_every_branch_then_surfaces_with_the_others_noted():
    finished: list[str] = []

    async def slow_ok() -> None:
        await asyncio.sleep(0.02)
        finished.append("slow")

    async def fails_first() -> None:
        raise TransientError("line 2 timed out")

    async def fails_later() -> None:
        await asyncio.sleep(0.01)
        raise PermanentError("line 3 refused")

    with pytest.raises(TransientError, match="line 2") as caught:
        asyncio.run(settle_all([fails_first(), slow_ok(), fails_later()]))
    assert finished == ["slow"]  # the branch still running was not cancelled
    assert any("line 3 refused" in note for note in caught.value.__notes__)


def test_settle_both_keeps_each_result_type():
    async def number() -> int:
        return 1

    async def text() -> str:
        return "a"

    assert asyncio.run(settle_both(number(), text())) == (1, "a")
    with pytest.raises(PermanentError):
        asyncio.run(settle_both(number(), _refused()))


async def _refused() -> str:
    raise PermanentError("no")
