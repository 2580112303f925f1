"""A worker process for the runtime's durability proof: start a run, get killed, resume it.

Usage: ``python runtime_worker.py DATABASE_URL MARKER_FILE [--start [--in-transaction]]
[--hold-at N]``.
Every step appends ``enter N`` when it begins and ``step N`` when its effect is done. With
``--hold-at N``, step N blocks after ``enter N`` until the process is killed; whether a step
holds is a property of this process, not of the run, so the resumed run goes through.
"""

from __future__ import annotations

import argparse
import threading
from pathlib import Path

import sqlalchemy as sa

from syncloom.engine.runtime import Runtime, durable_step, durable_workflow

STEPS = 5
WORKFLOW_ID = "proof:record-1@00000000000000000001"
QUEUE = "proof"
PARTITION_KEY = "proof:Account:1"

_hold_at = 0


def _append(marker: str, line: str) -> None:
    with Path(marker).open("a", encoding="utf-8") as file:
        file.write(line + "\n")
        file.flush()


@durable_step
def proof_step(marker: str, index: int) -> int:
    _append(marker, f"enter {index}")
    if index == _hold_at:
        threading.Event().wait()  # until SIGKILL: the run must be resumed elsewhere
    _append(marker, f"step {index}")
    return index


@durable_workflow
def proof_run(marker: str) -> int:
    return sum(proof_step(marker, index) for index in range(1, STEPS + 1))


def _enqueue(runtime: Runtime, marker: str, *, in_transaction: bool) -> None:
    if not in_transaction:
        runtime.enqueue(
            QUEUE, proof_run, marker, partition_key=PARTITION_KEY, workflow_id=WORKFLOW_ID
        )
        return
    with runtime.transaction() as tx:
        tx.connection.execute(sa.text("CREATE TABLE IF NOT EXISTS proof_intake (key TEXT)"))
        tx.connection.execute(sa.text("INSERT INTO proof_intake VALUES (:key)"), {"key": marker})
        tx.enqueue(QUEUE, proof_run, marker, partition_key=PARTITION_KEY, workflow_id=WORKFLOW_ID)


def main() -> None:
    global _hold_at
    parser = argparse.ArgumentParser()
    parser.add_argument("database_url")
    parser.add_argument("marker")
    parser.add_argument("--start", action="store_true")
    parser.add_argument("--in-transaction", action="store_true")
    parser.add_argument("--hold-at", type=int, default=0)
    args = parser.parse_args()
    _hold_at = args.hold_at
    runtime = Runtime(args.database_url, executor_id="proof-worker", app_version="proof-1")
    runtime.register_queue(QUEUE, worker_concurrency=2)
    with runtime:
        if args.start:
            _enqueue(runtime, args.marker, in_transaction=args.in_transaction)
        found = runtime.job(WORKFLOW_ID)
        if found is None:
            raise SystemExit(f"run {WORKFLOW_ID} not found")
        total = found.result(timeout_s=60)
        _append(args.marker, f"finished {total}")


if __name__ == "__main__":
    main()
