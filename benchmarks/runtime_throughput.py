"""Throughput of the durable runtime on SQLite: direct workflows and a partitioned queue.

Run: ``.venv/bin/python -m benchmarks.runtime_throughput [--quick] [--direct N] [--queued N]``.
Prints workflows/s called directly, and records/s end to end through a partitioned queue with
one workflow per record (each with its own partition key), enqueued one call at a time and
in a single transaction.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

from syncloom.engine.runtime import Runtime, durable_step, durable_workflow

QUEUE = "bench-records"


@durable_step
def touch(record_key: str) -> str:
    return record_key


@durable_workflow
def sync_one(record_key: str) -> str:
    return touch(record_key)


def measure_direct(count: int) -> float:
    started = time.perf_counter()
    for index in range(count):
        sync_one(f"direct:Account:{index}")
    return count / (time.perf_counter() - started)


def measure_queued(runtime: Runtime, count: int, tag: str) -> float:
    keys = [f"{tag}:Account:{index}" for index in range(count)]
    started = time.perf_counter()
    handles = [runtime.enqueue(QUEUE, sync_one, key, partition_key=key) for key in keys]
    for handle in handles:
        handle.result(timeout_s=600)
    return count / (time.perf_counter() - started)


def measure_queued_in_transaction(runtime: Runtime, count: int, tag: str) -> float:
    keys = [f"{tag}:Account:{index}" for index in range(count)]
    started = time.perf_counter()
    with runtime.transaction() as tx:
        ids = [tx.enqueue(QUEUE, sync_one, key, partition_key=key) for key in keys]
    for workflow_id in ids:
        handle = runtime.job(workflow_id)
        assert handle is not None
        handle.result(timeout_s=600)
    return count / (time.perf_counter() - started)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="a short pass (100 and 200)")
    parser.add_argument("--direct", type=int, default=500)
    parser.add_argument("--queued", type=int, default=1000)
    parser.add_argument("--worker-concurrency", type=int, default=64)
    # The runner passes the same flags to every benchmark: ignore the ones for others.
    args, _ = parser.parse_known_args(argv)
    if args.quick:
        args.direct, args.queued = 100, 200
    with tempfile.TemporaryDirectory() as folder:
        runtime = Runtime(f"sqlite:///{Path(folder) / 'bench.sqlite'}", executor_id="bench")
        runtime.register_queue(
            QUEUE, worker_concurrency=args.worker_concurrency, polling_interval_s=0.05
        )
        with runtime:
            measure_direct(20)  # warm up connections and the registry
            direct = measure_direct(args.direct)
            queued = measure_queued(runtime, args.queued, "one")
            batched = measure_queued_in_transaction(runtime, args.queued, "tx")
    print(f"direct workflows (1 step each): {direct:8.1f} workflows/s  (n={args.direct})")
    print(f"partitioned queue, enqueue each: {queued:8.1f} records/s  (n={args.queued})")
    print(f"partitioned queue, one tx enqueue: {batched:6.1f} records/s  (n={args.queued})")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
