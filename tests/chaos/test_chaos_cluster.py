"""Chaos rounds on PostgreSQL with two ``syncloom worker`` processes.

The rounds of ``test_chaos.py``, scaled out: the flows poll on a schedule that whichever
worker is up picks, record jobs spread over both workers, and at random moments a random
worker is SIGKILLed. Half the time it comes back under its own executor id (and resumes
its own pending runs); otherwise ``syncloom recover`` hands its runs to the survivor and a
fresh worker joins. Faults stay on in all three simulators until the end. The judge
counts lost, duplicated and divergent records (goal 0/0/0) and the time to converge.

The default run is small (2 rounds); ``SYNCLOOM_LONG=1`` runs the long one (``-m slow``).
"""

from __future__ import annotations

import os
import random
from pathlib import Path

import pytest

from tests.chaos.judge import RoundReport, write_reports
from tests.chaos.rounds import run_cluster_round
from tests.chaos.world import CHAOS_FLOWS, chaos_world, scheduled
from tests.scale.cluster import fresh_database

pytestmark = [pytest.mark.e2e, pytest.mark.pg]

EVERY_2_S = "*/2 * * * * *"


def _run(
    pg_url: str, tmp_path: Path, name: str, *, rounds: int, new: int, updates: int, kills: int,
    seed: int,
) -> list[RoundReport]:  # fmt: skip
    rng = random.Random(seed)
    reports = []
    executors = ["chaos-a", "chaos-b"]
    flows = scheduled(CHAOS_FLOWS, EVERY_2_S)
    with (
        fresh_database(pg_url) as url,
        chaos_world(tmp_path, database_url=url, flows=flows) as world,
    ):
        for round_no in range(1, rounds + 1):
            report = run_cluster_round(
                world, rng, round_no, executors, new=new, updates=updates, kills=kills
            )
            reports.append(report)
            print(report)
            if not report.converged:
                log = world.log_file.read_text(encoding="utf-8", errors="replace")[-4000:]
                print(log)
                break
    write_reports(name, reports)
    return reports


def _assert_clean(reports: list[RoundReport]) -> None:
    for report in reports:
        assert report.converged, f"round {report.round} did not converge: {report}"
        assert (report.lost, report.duplicated, report.divergent) == (0, 0, 0), report
        assert report.workers == 2
    injected = sum(sum(r.faults[s].values()) for r in reports for s in r.faults)
    assert injected > 0, "no fault was injected: the chaos proved nothing"
    assert sum(len(r.events) for r in reports) == sum(r.kills for r in reports)


@pytest.mark.timeout(900)  # worker start-ups on PostgreSQL are slow on a loaded machine
def test_two_workers_on_postgresql_killed_and_taken_over_lose_and_duplicate_nothing(
    pg_url, tmp_path
):
    reports = _run(pg_url, tmp_path, "cluster", rounds=2, new=6, updates=3, kills=2, seed=17)
    _assert_clean(reports)
    assert reports[-1].accounts == 12


@pytest.mark.slow
@pytest.mark.timeout(7200)
@pytest.mark.skipif(not os.environ.get("SYNCLOOM_LONG"), reason="long chaos: SYNCLOOM_LONG=1")
def test_long_cluster_chaos_run(pg_url, tmp_path):
    rounds = int(os.environ.get("SYNCLOOM_CHAOS_ROUNDS", "8"))
    reports = _run(
        pg_url, tmp_path, "cluster-long", rounds=rounds, new=20, updates=10, kills=4, seed=23
    )
    _assert_clean(reports)
