"""Chaos rounds: faults on all three simulators, SIGKILLed workers, then count the damage.

Each round edits Creatio (new accounts, new phones on earlier ones, deleted accounts) with no
fault in the way, then turns on a seeded fault mix on every simulator (429 with Retry-After,
5xx, slow 504 timeouts, connection resets, slow answers), expires every session and token,
and runs a worker that is SIGKILLed at seeded random moments and restarted. Changes reach the
worker by poll and by Creatio's webhook, through a relay that duplicates some deliveries and
delivers others out of order (or not at all, while the worker is down; sweeps find lost
deletes). With the faults still on, the last worker must bring the three systems to what the
flows say: zero lost, duplicated or divergent records, and every deleted Account's twins
following the delete policies. The figures of every round go to ``test-artifacts/chaos/``.

The default run is small (3 rounds, a few dozen records); ``SYNCLOOM_LONG=1`` runs the long
one (``-m slow``).
"""

from __future__ import annotations

import os
import random
from collections import Counter
from pathlib import Path

import pytest

from tests.chaos.judge import RoundReport, write_reports
from tests.chaos.rounds import run_round
from tests.chaos.world import CHAOS_FLOWS, ORDER_FLOWS, ChaosWorld, chaos_world

pytestmark = pytest.mark.e2e


def _run(
    tmp_path: Path, name: str, *, rounds: int, new: int, updates: int, kills: int, seed: int,
    deletes: int = 0, orders: int = 0,
):  # fmt: skip
    rng = random.Random(seed)
    reports = []
    with chaos_world(tmp_path, flows=CHAOS_FLOWS + ORDER_FLOWS) as world:
        for round_no in range(1, rounds + 1):
            report = run_round(
                world, rng, round_no, new=new, updates=updates, kills=kills, deletes=deletes,
                orders=orders,
            )  # fmt: skip
            reports.append(report)
            print(report)
            if not report.converged:
                break
    write_reports(name, reports)
    return reports, world


def _assert_clean(reports: list[RoundReport], world: ChaosWorld) -> None:
    log = world.log_file.read_text(encoding="utf-8", errors="replace")[-4000:]
    for report in reports:
        assert report.converged, f"round {report.round} did not converge: {report}\n{log}"
        assert (report.lost, report.duplicated, report.divergent) == (0, 0, 0), report
    injected = sum(sum(r.faults[s].values()) for r in reports for s in r.faults)
    assert injected > 0, "no fault was injected: the chaos proved nothing"
    hooks: Counter[str] = sum((Counter(r.webhooks) for r in reports), Counter())
    for what in ("accepted", "duplicated", "held back"):
        assert hooks[what] > 0, f"no webhook was {what}: the deliveries proved nothing"


def test_three_rounds_of_faults_and_kills_lose_and_duplicate_nothing(tmp_path):
    reports, world = _run(
        tmp_path, "default", rounds=3, new=8, updates=4, kills=2, seed=7, deletes=2, orders=2
    )
    _assert_clean(reports, world)
    assert len(world.deleted) == 6
    assert reports[-1].accounts == 24 - 6
    assert reports[-1].orders == 6
    assert reports[-1].lines == sum(len(lines) for lines in world.orders.values())


@pytest.mark.slow
@pytest.mark.skipif(not os.environ.get("SYNCLOOM_LONG"), reason="long chaos: SYNCLOOM_LONG=1")
def test_long_chaos_run(tmp_path):
    rounds = int(os.environ.get("SYNCLOOM_CHAOS_ROUNDS", "12"))
    reports, world = _run(
        tmp_path, "long", rounds=rounds, new=20, updates=15, kills=4, seed=11, deletes=4,
        orders=8,
    )  # fmt: skip
    _assert_clean(reports, world)
