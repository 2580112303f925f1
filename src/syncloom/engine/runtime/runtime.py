"""Runtime: the one object that starts, feeds and stops the durable execution engine."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from types import TracebackType
from typing import TypeVar

import sqlalchemy as sa
from dbos import DBOS, DBOSClient, DBOSConfig, ScheduleInput, SetEnqueueOptions, SetWorkflowID

from syncloom.engine.runtime.handle import JobHandle
from syncloom.engine.runtime.preflight import check_sqlite_support
from syncloom.engine.runtime.queues import QueueSpec, check_enqueue, declare_queue
from syncloom.engine.runtime.transaction import Transaction
from syncloom.store import sqlite_writers

__all__ = ["DEFAULT_APP_VERSION", "Runtime", "ScheduledWorkflow"]

R = TypeVar("R")

DEFAULT_APP_VERSION = "1"
# Jobs enqueued through transactions between two refreshes of the queue table's statistics.
ANALYZE_AFTER = 2_000
"""The version of the durable workflows' shapes every process runs unless configured otherwise.

DBOS recovers a run and dequeues a queued one only in a process of the run's application
version. Its default version is a hash of the workflows' source, so any release, even one
that only fixes a typo, would orphan the runs queued or in flight under the previous one. A
stable version from configuration keeps them: bump it only for a release whose workflows
take other steps in another order, after the previous release has drained its queues.
"""

ScheduledWorkflow = Callable[[datetime, str], None]
"""A durable workflow a schedule calls with (fire time in the schedule's zone, context)."""


@dataclass(frozen=True)
class _ScheduleSpec:
    name: str
    cron: str
    fn: ScheduledWorkflow
    tz: str
    context: str
    catch_up: bool


class Runtime:
    """The durable runtime of one process: recovery, queues, schedules, transactional enqueue.

    The engine is a process-wide singleton underneath, so run one Runtime per process. Give
    every long-lived worker a stable ``executor_id``: on launch, the runtime resumes the runs
    that a previous process with the same id left unfinished.

    Example::

        runtime = Runtime("sqlite:///syncloom.sqlite", executor_id="worker-1")
        runtime.register_queue("records", worker_concurrency=8)
        with runtime:
            runtime.enqueue("records", sync_record, key, partition_key=key).result()
    """

    def __init__(
        self,
        database_url: str,
        *,
        app_name: str = "syncloom",
        executor_id: str = "local",
        app_version: str = DEFAULT_APP_VERSION,
        log_level: str = "WARNING",
    ) -> None:
        """Describe the runtime; nothing connects until :meth:`launch`.

        Args:
            database_url: ``sqlite:///path`` or ``postgresql://user@host/db``.
            app_name: Owner of the queues and schedules in a shared database.
            executor_id: Stable identity of this worker, used to recover its runs.
            app_version: Runs are recovered and dequeued only by processes of the same
                version; keep it stable across releases (see :data:`DEFAULT_APP_VERSION`).
            log_level: Level of the engine's own logger.
        """
        self._database_url = database_url
        self._app_name = app_name
        self._executor_id = executor_id
        self._app_version = app_version
        self._log_level = log_level
        self._queues: dict[str, QueueSpec] = {}
        self._schedules: dict[str, _ScheduleSpec] = {}
        self._engine: sa.Engine | None = None
        self._enqueued_since_analyze = 0
        self._client: DBOSClient | None = None
        self._launched = False

    @property
    def executor_id(self) -> str:
        """This worker's stable identity."""
        return self._executor_id

    def register_queue(
        self,
        name: str,
        *,
        concurrency: int | None = None,
        worker_concurrency: int | None = None,
        partitioned: bool = True,
        polling_interval_s: float = 0.1,
    ) -> None:
        """Declare a queue; declared at launch, or at once when already launched.

        Args:
            name: The queue's name.
            concurrency: Most jobs running at once across all workers.
            worker_concurrency: Most jobs running at once in this worker.
            partitioned: At most one running job per partition key.
            polling_interval_s: How often workers look for new jobs.
        """
        spec = QueueSpec(name, concurrency, worker_concurrency, partitioned, polling_interval_s)
        self._queues[name] = spec
        if self._launched:
            declare_queue(spec)

    def schedule(
        self,
        name: str,
        cron: str,
        fn: ScheduledWorkflow,
        *,
        tz: str = "UTC",
        context: str = "",
        catch_up: bool = False,
    ) -> None:
        """Run a durable workflow on a cron schedule evaluated in a declared time zone.

        The cron is evaluated in ``tz`` (IANA name), so ``0 9 * * *`` in ``Europe/Berlin`` fires
        at 09:00 Berlin time on both sides of a daylight-saving change. Each fire time runs at
        most once, even with several workers.

        Args:
            name: Unique schedule name; re-declaring replaces it.
            cron: Five fields, or six with seconds first.
            fn: A ``@durable_workflow`` taking (fire time in ``tz``, ``context``).
            tz: IANA time zone the cron is read in.
            context: Passed to every run, e.g. the flow the schedule belongs to.
            catch_up: On launch, also run the fire times missed while no worker was up.
        """
        self._schedules[name] = _ScheduleSpec(name, cron, fn, tz, context, catch_up)
        if self._launched:
            self._apply_schedules()

    def backfill(self, schedule: str, start: datetime, end: datetime) -> list[JobHandle[None]]:
        """Run a schedule's fire times in the open interval (start, end) that have not run yet.

        Args:
            schedule: A schedule declared with :meth:`schedule`.
            start: Aware datetime, exclusive.
            end: Aware datetime, exclusive.

        Returns:
            One handle per fire time, in order.
        """
        return [JobHandle(handle) for handle in DBOS.backfill_schedule(schedule, start, end)]

    def launch(self) -> None:
        """Connect, migrate, resume this executor's unfinished runs, and start the workers.

        Raises:
            ConfigError: The interpreter's SQLite cannot run the engine.
        """
        if self._launched:
            return
        check_sqlite_support(self._database_url)
        sqlite_writers.install()  # before DBOS makes its engines on the same file
        DBOS(config=self._config())
        try:
            DBOS.launch()
            for spec in self._queues.values():
                declare_queue(spec)
            self._apply_schedules()
        except BaseException:
            DBOS.destroy()
            raise
        self._launched = True

    def shutdown(self, *, drain_timeout_s: int = 0) -> None:
        """Stop the workers and release every connection; safe to call twice.

        Args:
            drain_timeout_s: Let running jobs finish for this long first; unfinished ones
                resume at the next launch either way.
        """
        if self._client is not None:
            self._client.destroy()
            self._client = None
        if self._engine is not None:
            self._engine.dispose()
            self._engine = None
        if self._launched:
            DBOS.destroy(workflow_completion_timeout_sec=drain_timeout_s)
            self._launched = False

    def __enter__(self) -> Runtime:
        self.launch()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.shutdown()

    def start(
        self, fn: Callable[..., R], *args: object, workflow_id: str | None = None
    ) -> JobHandle[R]:
        """Start a durable workflow in the background of this process.

        Args:
            fn: A ``@durable_workflow`` function.
            *args: Its arguments.
            workflow_id: The run's id; an existing id attaches to that run instead.

        Returns:
            A handle to the run.
        """
        with _workflow_id(workflow_id):
            return JobHandle(DBOS.start_workflow(fn, *args))

    def enqueue(
        self,
        queue: str,
        fn: Callable[..., R],
        *args: object,
        partition_key: str | None = None,
        workflow_id: str | None = None,
    ) -> JobHandle[R]:
        """Put a durable workflow on a queue; any worker on the database may run it.

        Args:
            queue: A queue registered with :meth:`register_queue`.
            fn: A ``@durable_workflow`` function.
            *args: Its arguments; they must be serialisable.
            partition_key: Required on a partitioned queue, e.g. the record key.
            workflow_id: The run's id; an existing id attaches to that run instead.

        Returns:
            A handle to the run.

        Raises:
            ValueError: The queue is unknown or the partition key does not fit it.
        """
        check_enqueue(self._queues, queue, partition_key)
        with _workflow_id(workflow_id), SetEnqueueOptions(queue_partition_key=partition_key):
            return JobHandle(DBOS.enqueue_workflow(queue, fn, *args))

    @contextmanager
    def transaction(self) -> Iterator[Transaction]:
        """Open a transaction on the runtime's database for rows and enqueues together.

        Yields:
            The open transaction; it commits when the block ends and rolls back on error.
        """
        engine, client = self._transaction_parts()
        with engine.begin() as connection:
            tx = Transaction(connection, client, self._queues, DBOS.application_version)
            yield tx
        self._after_enqueues(engine, tx.enqueued)

    def _after_enqueues(self, engine: sa.Engine, count: int) -> None:
        """Refresh PostgreSQL's statistics of the runtime's table after a burst of jobs.

        Workers find the next job with queries planned from those statistics. A fresh
        database that gets a first poll of 20,000 records had none yet, and PostgreSQL planned
        each search for the next job as a scan per partition: minutes per search, every
        worker idle behind it, until autovacuum caught up. With statistics the same search
        takes a fraction of a second. ANALYZE samples the table, so it is cheap; it runs once
        per ``ANALYZE_AFTER`` jobs enqueued through this runtime's transactions.
        """
        self._enqueued_since_analyze += count
        if self._enqueued_since_analyze < ANALYZE_AFTER or engine.dialect.name != "postgresql":
            return
        self._enqueued_since_analyze = 0
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.execute(sa.text("ANALYZE dbos.workflow_status"))

    def recover(self, executor_ids: Sequence[str]) -> list[JobHandle[object]]:
        """Take over the unfinished runs of executors that will never come back.

        Each pending run of those executors goes back to its queue (runs started without a
        queue go to the engine's internal one), so the first live worker to dequeue it resumes
        it after its last checkpointed step; a second call for the same executors finds
        nothing. Only name executors that are really gone: a live one would see its running
        jobs started a second time.

        Args:
            executor_ids: The stable ids of the departed workers.

        Returns:
            One handle per run taken over.

        Raises:
            RuntimeError: The runtime is not launched.
            ValueError: No id given, or this runtime's own id (it recovers itself at launch).
        """
        if not self._launched:
            raise RuntimeError("launch the runtime before recovering other executors")
        wanted = list(dict.fromkeys(executor_ids))
        if not wanted:
            raise ValueError("name at least one executor to recover")
        if self._executor_id in wanted:
            raise ValueError(
                f"executor {self._executor_id!r} is this process; it recovers its own runs "
                "at launch"
            )
        # DBOS 3.4 exposes this only under its leading-underscore name.
        return [JobHandle(handle) for handle in DBOS._recover_pending_workflows(wanted)]

    def job(self, workflow_id: str) -> JobHandle[object] | None:
        """Find a run by workflow id.

        Returns:
            Its handle, or None when no such run exists (e.g. its transaction rolled back).
        """
        if DBOS.get_workflow_status(workflow_id) is None:
            return None
        return JobHandle(DBOS.retrieve_workflow(workflow_id))

    def _config(self) -> DBOSConfig:
        config: DBOSConfig = {
            "name": self._app_name,
            "system_database_url": self._database_url,
            "executor_id": self._executor_id,
            "log_level": self._log_level,
            # Schedules are declared right after launch; find them within a second.
            "scheduler_polling_interval_sec": 1.0,
            "application_version": self._app_version,
        }
        return config

    def _apply_schedules(self) -> None:
        entries: list[ScheduleInput] = [
            {
                "schedule_name": spec.name,
                "workflow_fn": spec.fn,
                "schedule": spec.cron,
                "context": spec.context,
                "cron_timezone": spec.tz,
                "automatic_backfill": spec.catch_up,
            }
            for spec in self._schedules.values()
        ]
        if entries:
            DBOS.apply_schedules(entries)

    def _transaction_parts(self) -> tuple[sa.Engine, DBOSClient]:
        if not self._launched:
            raise RuntimeError("launch the runtime before opening a transaction")
        if self._engine is None or self._client is None:
            self._engine = create_engine(self._database_url)
            self._client = DBOSClient(
                system_database_url=self._database_url,
                application_name=self._app_name,
                lazy=True,
            )
        return self._engine, self._client


@contextmanager
def _workflow_id(workflow_id: str | None) -> Iterator[None]:
    if workflow_id is None:
        yield
        return
    with SetWorkflowID(workflow_id):
        yield


def create_engine(database_url: str) -> sa.Engine:
    """An engine on the runtime's database for our own rows next to its enqueues."""
    url = sa.make_url(database_url)
    if url.drivername == "postgresql":
        # psycopg 3 is the driver we ship; SQLAlchemy's bare "postgresql" means psycopg2.
        return sa.create_engine(url.set(drivername="postgresql+psycopg"))
    engine = sa.create_engine(url)

    @sa.event.listens_for(engine, "connect")
    def _wait_for_writers(dbapi_conn: object, _record: object) -> None:
        # The engine's own workers write to this file too: wait for their lock, don't fail.
        dbapi_conn.execute("PRAGMA busy_timeout=30000")  # type: ignore[attr-defined]

    return engine
