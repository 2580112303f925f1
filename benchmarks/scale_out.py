"""Scale-out: record jobs per second with one worker and with two, on PostgreSQL, 50 ms latency.

Run with ``.venv/bin/python -m benchmarks.scale_out [--quick] [--records N] [--latency-ms L]``
(PostgreSQL from ``SYNCLOOM_TEST_PG_URL``, default ``postgresql://postgres@127.0.0.1/test``).
Each round makes a fresh database and fresh simulators (``N`` Creatio Accounts, latency added
to every request), starts ``syncloom worker`` processes (16 record jobs each) and times from
their start until every Account is linked to an Intacct customer. The flow polls every two
seconds, so one poll enqueues the load and the workers share the queue. Then it checks that
no record was processed twice: one customer per Account, at most one ``created`` record-log
entry per key. Process start-up (a few seconds) is inside the time of both rounds.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

from tests.scale.cluster import cluster, wait_for

from syncloom.testing import SimulatorHandle

PG_URL = os.environ.get("SYNCLOOM_TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/test")


def round_trip(workers: int, records: int, latency_ms: float) -> tuple[float, bool]:
    """Time one load with ``workers`` workers; returns (seconds, each record once)."""
    with tempfile.TemporaryDirectory() as tmp, cluster(PG_URL, Path(tmp), records=records) as w:
        for url in (w.crm_url, w.erp_url):
            SimulatorHandle(url).set_faults(latency_ms=latency_ms)
        started = time.perf_counter()
        for n in range(workers):
            w.start_worker(f"w{n + 1}")
        wait_for(lambda: w.linked() >= records, w, 3_600, "every account linked")
        seconds = time.perf_counter() - started
        keys = w.target_keys()
        per_key = w.log_actions()
        once = len(keys) == len(set(keys)) == records and all(
            actions["created"] <= 1 for actions in per_key.values()
        )
        print(
            f"{workers} worker(s): {records} records in {seconds:6.1f} s = "
            f"{records / seconds:5.1f} records/s; by worker {dict(w.runs_by_executor())}; "
            f"each record once: {once}",
            flush=True,
        )
        return seconds, once


def main(argv: Sequence[str] | None = None) -> int:
    """Run one worker, then two; print the speed-up."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="500 records instead of 3,000")
    parser.add_argument("--records", type=int, default=None)
    parser.add_argument("--latency-ms", type=float, default=50.0)
    args = parser.parse_args(argv)
    records = args.records or (500 if args.quick else 3_000)
    one, once_1 = round_trip(1, records, args.latency_ms)
    two, once_2 = round_trip(2, records, args.latency_ms)
    print(f"two workers run at {one / two:.2f}x the rate of one (goal 1.6x)")
    return 0 if once_1 and once_2 else 1


if __name__ == "__main__":
    raise SystemExit(main())
