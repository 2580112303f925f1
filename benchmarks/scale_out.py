"""Scale-out: record jobs per second with one worker and with two, on PostgreSQL, 50 ms latency.

Run with ``.venv/bin/python -m benchmarks.scale_out [--quick] [--records N] [--latency-ms L]``
(PostgreSQL from ``SYNCLOOM_TEST_PG_URL``, default ``postgresql://postgres@127.0.0.1/test``).
Each round makes a fresh database and fresh simulators (``N`` Creatio Accounts, latency added
to every request), starts ``syncloom worker`` processes (16 record jobs each) and waits until
every Account is linked to an Intacct customer. The flow polls every two seconds, so one poll
enqueues the load and the workers share the queue. Then it checks that no record was processed
twice: one customer per Account, at most one ``created`` record-log entry per key.

Two times are reported per round: from the processes' start (start-up inside), and from the
first record job enqueued (the runtime's own table says when) to the last Account linked, which
is the rate the workers sustain once they are up.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa
from tests.scale.cluster import Cluster, cluster, wait_for

from syncloom.testing import SimulatorHandle

PG_URL = os.environ.get("SYNCLOOM_TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/test")


@dataclass(frozen=True)
class Round:
    """One timed load."""

    workers: int
    records: int
    with_start_s: float
    from_first_job_s: float
    once: bool


def round_trip(workers: int, records: int, latency_ms: float) -> Round:
    """Time one load with ``workers`` workers."""
    with tempfile.TemporaryDirectory() as tmp, cluster(PG_URL, Path(tmp), records=records) as w:
        for url in (w.crm_url, w.erp_url):
            SimulatorHandle(url).set_faults(latency_ms=latency_ms)
        started = time.time()
        for n in range(workers):
            w.start_worker(f"w{n + 1}")
        wait_for(lambda: w.linked() >= records, w, 3_600, "every account linked")
        finished = time.time()
        keys = w.target_keys()
        per_key = w.log_actions()
        once = len(keys) == len(set(keys)) == records and all(
            actions["created"] <= 1 for actions in per_key.values()
        )
        timed = Round(workers, records, finished - started, finished - first_job(w), once)
        print(
            f"{workers} worker(s): {records} records in {timed.with_start_s:6.1f} s with start-up "
            f"({records / timed.with_start_s:5.1f}/s), {timed.from_first_job_s:6.1f} s from the "
            f"first job ({records / timed.from_first_job_s:5.1f}/s); by worker "
            f"{dict(w.runs_by_executor())}; each record once: {once}",
            flush=True,
        )
        return timed


def first_job(world: Cluster) -> float:
    """When the first record job was enqueued (epoch seconds), from the runtime's table."""
    query = sa.text(
        "SELECT min(created_at) FROM dbos.workflow_status WHERE name = 'syncloom.sync_record'"
    )
    with world.sessions() as session:
        return float(session.scalar(query)) / 1000.0


def main(argv: Sequence[str] | None = None) -> int:
    """Run one worker, then two (``--pairs`` times, alternating); print the speed-up."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="500 records instead of 3,000")
    parser.add_argument("--records", type=int, default=None)
    parser.add_argument("--latency-ms", type=float, default=50.0)
    parser.add_argument(
        "--pairs", type=int, default=1, help="alternate one and two workers this many times"
    )
    args = parser.parse_args(argv)
    records = args.records or (500 if args.quick else 3_000)
    rounds = []
    for _ in range(args.pairs):
        # Alternating spreads a shared machine's changing load over both sides.
        rounds += [round_trip(1, records, args.latency_ms), round_trip(2, records, args.latency_ms)]
    one = sum(r.from_first_job_s for r in rounds if r.workers == 1)
    two = sum(r.from_first_job_s for r in rounds if r.workers == 2)
    one_all = sum(r.with_start_s for r in rounds if r.workers == 1)
    two_all = sum(r.with_start_s for r in rounds if r.workers == 2)
    print(
        f"two workers run at {one / two:.2f}x the rate of one from the first job, "
        f"{one_all / two_all:.2f}x with start-up (goal 1.6x)"
    )
    return 0 if all(r.once for r in rounds) else 1


if __name__ == "__main__":
    raise SystemExit(main())
