"""A worker process of one release, for the proof that work queued by a release survives it.

Usage: ``python runtime_release.py DATABASE_URL MARKER_FILE --release N [--start]``.
With ``--start``, release 1 enqueues two runs on one partition: the first blocks in its step
until the process is killed (so it stays in flight), the second waits behind it in the queue.
Release 2 registers one more workflow, so its code (and DBOS's default version, a hash of
the workflows' source) differs from release 1's; it only waits for both runs to finish.
Every step appends ``enter <run>`` when it begins and ``done <run> <release>`` when it ends.
"""

from __future__ import annotations

import argparse
import sys
import threading
from pathlib import Path

from syncloom.engine.runtime import Runtime, durable_step, durable_workflow

QUEUE = "release"
PARTITION_KEY = "release:Account:1"
RUNS = ("release:first", "release:second")
RELEASE = int(sys.argv[sys.argv.index("--release") + 1]) if "--release" in sys.argv else 1


def _append(marker: str, line: str) -> None:
    with Path(marker).open("a", encoding="utf-8") as file:
        file.write(line + "\n")
        file.flush()


@durable_step
def release_step(marker: str, run: str) -> str:
    _append(marker, f"enter {run}")
    if RELEASE == 1 and run == RUNS[0]:
        threading.Event().wait()  # in flight until SIGKILL: the next release must finish it
    _append(marker, f"done {run} {RELEASE}")
    return run


@durable_workflow(name="release.run")
def release_run(marker: str, run: str) -> str:
    return release_step(marker, run)


if RELEASE == 2:

    @durable_workflow(name="release.added")
    def added_in_release_2() -> None:
        """A workflow release 1 did not have: the code, and its hash, changed."""


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("database_url")
    parser.add_argument("marker")
    parser.add_argument("--release", type=int, default=1)
    parser.add_argument("--start", action="store_true")
    args = parser.parse_args()
    runtime = Runtime(args.database_url, executor_id="release-worker")
    runtime.register_queue(QUEUE, worker_concurrency=2, polling_interval_s=0.05)
    with runtime:
        if args.start:
            for run in RUNS:
                runtime.enqueue(
                    QUEUE, release_run, args.marker, run, partition_key=PARTITION_KEY,
                    workflow_id=run,
                )  # fmt: skip
        for run in RUNS:
            found = runtime.job(run)
            if found is None:
                raise SystemExit(f"run {run} not found")
            found.result(timeout_s=60)
        _append(args.marker, f"finished {args.release}")


if __name__ == "__main__":
    main()
