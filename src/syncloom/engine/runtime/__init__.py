"""The durable runtime: DBOS Transact behind one small, typed surface.

Only this package imports ``dbos`` (an import-linter contract keeps it so); the rest of syncloom
declares durable functions with :func:`durable_workflow` / :func:`durable_step` and drives them
through :class:`Runtime`.

What DBOS gives us:

- **Durable workflows.** Each step's output is checkpointed in the database; after a crash, the
  next launch with the same executor id resumes unfinished runs and skips finished steps.
  Steps run *at least* once (a crash between a step's effect and its checkpoint re-runs it), so
  steps must be idempotent.
- **Queues** in the database, with global, per-worker and per-partition concurrency. A
  partitioned queue runs one job per key at a time across all workers (row locks with
  ``SKIP LOCKED`` on PostgreSQL).
- **Idempotent starts.** A workflow id is an idempotency key: re-using it attaches to the
  existing run (see :func:`workflow_id_for`).
- **Durable sleep** (:func:`sleep`) for retries that wait minutes to days.
- **Cron schedules evaluated in a declared IANA zone**, each fire time run at most once
  (its workflow id is derived from the fire time), with optional catch-up and backfill.
- **Transactional enqueue** through a caller-owned SQLAlchemy connection to the same database
  (:meth:`Runtime.transaction`).

What it does not give us, and where that lives instead:

- Rate limits per Connection: DBOS's limiter is per queue (and one-second resolution on SQLite
  under Python 3.11); the Governor does rate limiting.
- Ordering beyond "one at a time per key": jobs of one key are not guaranteed to run in
  enqueue order, so record jobs re-read the record and never write an older version.
- Throughput for bulk work: one workflow per record costs several database writes. On two
  cores and SQLite, ``benchmarks/runtime_throughput.py`` measures about 200 workflows/s called
  directly and 90-130 records/s through a partitioned queue (worker concurrency 16-64). Bulk
  loads page through records inside one workflow, a page per step.
- Multiple runtimes per process: DBOS is a process-wide singleton.
- Recovery across versions: a run is resumed, and a queued one dequeued, only by a process
  with the same application version. DBOS derives it from the workflows' source by default,
  which would strand queued work at every release; we pass a stable version from
  configuration instead (:data:`DEFAULT_APP_VERSION`, ``SYNCLOOM_APP_VERSION``).
- Taking over a worker that never comes back: :func:`recover_executors` hands its pending
  runs back to the queues from any process (``syncloom recover``); :meth:`Runtime.recover`
  does the same inside a live worker (``syncloom worker --take-over``).
- On Python >= 3.12 it needs SQLite >= 3.42; :func:`check_sqlite_support` says so at launch.
"""

from __future__ import annotations

from syncloom.engine.runtime.client import JobStatus, RuntimeClient, migrate_runtime
from syncloom.engine.runtime.decorators import (
    current_workflow_id,
    durable_step,
    durable_workflow,
    enqueue_child,
    sleep,
)
from syncloom.engine.runtime.handle import JobHandle, JobState
from syncloom.engine.runtime.ids import workflow_id_for
from syncloom.engine.runtime.preflight import check_sqlite_support
from syncloom.engine.runtime.queues import QueueSpec
from syncloom.engine.runtime.recovery import recover_executors, unfinished_runs
from syncloom.engine.runtime.runtime import DEFAULT_APP_VERSION, Runtime, ScheduledWorkflow
from syncloom.engine.runtime.transaction import Transaction

__all__ = [
    "DEFAULT_APP_VERSION",
    "JobHandle",
    "JobState",
    "JobStatus",
    "QueueSpec",
    "Runtime",
    "RuntimeClient",
    "ScheduledWorkflow",
    "Transaction",
    "check_sqlite_support",
    "current_workflow_id",
    "durable_step",
    "durable_workflow",
    "enqueue_child",
    "migrate_runtime",
    "recover_executors",
    "sleep",
    "unfinished_runs",
    "workflow_id_for",
]
