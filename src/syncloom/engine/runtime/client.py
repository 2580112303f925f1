"""RuntimeClient: hand work to the workers from a process that runs none, and follow it.

How does a portal that runs no workers start a poll, a backfill or a replay? It writes the
run into the runtime's queue in the shared database, where the first worker with a free slot
dequeues it, exactly as it dequeues a record job; the portal keeps the run's workflow id and
reads its state and output from the same table later. Nothing is lost if the portal stops
right after: the queued run is already durable.

Example::

    client = RuntimeClient(settings.database_url)
    job = client.enqueue("actions", poll_flow, tenant_id, "accounts", workflow_id=job_id)
    client.status(job).state  # ENQUEUED, then PENDING, then SUCCESS
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import sqlalchemy as sa
from dbos import DBOS, DBOSClient

from syncloom.engine.runtime.handle import JobState
from syncloom.engine.runtime.queues import QueueSpec
from syncloom.engine.runtime.runtime import DEFAULT_APP_VERSION, create_engine
from syncloom.engine.runtime.transaction import Transaction

__all__ = ["JobStatus", "RuntimeClient", "migrate_runtime"]


def migrate_runtime(database_url: str) -> None:
    """Create or upgrade the runtime's own tables (a worker's launch does it too).

    A :class:`RuntimeClient` never creates them, so a portal started before any worker
    needs them made first: ``syncloom db upgrade`` calls this.
    """
    DBOS.migrate(database_url)


@dataclass(frozen=True)
class JobStatus:
    """Where one run is, and what it returned or raised once it ended.

    Attributes:
        workflow_id: the run's id.
        state: its state in the runtime's table.
        output: what it returned (when it succeeded).
        error: the text of what it raised (when it failed).
    """

    workflow_id: str
    state: JobState
    output: object = None
    error: str | None = None


class RuntimeClient:
    """Enqueue durable runs and read their state, with no worker in this process."""

    def __init__(
        self,
        database_url: str,
        queues: tuple[QueueSpec, ...] = (),
        *,
        app_name: str = "syncloom",
        app_version: str = DEFAULT_APP_VERSION,
    ) -> None:
        """Describe the client; it connects on first use.

        Args:
            database_url: the runtime's database, as the workers have it.
            queues: the queues this client may enqueue to (declared by the workers).
            app_name: the application the workers run as.
            app_version: the version of the workers that may run what is enqueued.
        """
        self._database_url = database_url
        self._queues = {spec.name: spec for spec in queues}
        self._app_name = app_name
        self._app_version = app_version
        self._client: DBOSClient | None = None
        self._engine: sa.Engine | None = None

    def enqueue(
        self,
        queue: str,
        fn: Callable[..., object],
        *args: object,
        partition_key: str | None = None,
        workflow_id: str | None = None,
    ) -> str:
        """Put a durable workflow on a queue for the workers; returns its workflow id.

        Raises:
            TypeError: ``fn`` is not declared with ``@durable_workflow``.
            ValueError: The queue is not one of this client's, or the partition key misfits.
        """
        with self.transaction() as tx:
            return tx.enqueue(
                queue, fn, *args, partition_key=partition_key, workflow_id=workflow_id
            )

    @contextmanager
    def transaction(self) -> Iterator[Transaction]:
        """A transaction on the runtime's database for rows and enqueues together.

        Yields:
            The open transaction; it commits when the block ends and rolls back on error.
        """
        client, engine = self._parts()
        with engine.begin() as connection:
            yield Transaction(connection, client, self._queues, self._app_version)

    def status(self, workflow_id: str) -> JobStatus | None:
        """The state of a run, with its output or error once it ended; None if unknown."""
        client, _ = self._parts()
        found = client.list_workflows(workflow_ids=[workflow_id], load_input=False)
        if not found:
            return None
        row = found[0]
        error = None if row.error is None else f"{type(row.error).__name__}: {row.error}"
        return JobStatus(workflow_id, JobState(row.status), row.output, error)

    def close(self) -> None:
        """Release the client's connections; safe to call twice."""
        if self._client is not None:
            self._client.destroy()
            self._client = None
        if self._engine is not None:
            self._engine.dispose()
            self._engine = None

    def _parts(self) -> tuple[DBOSClient, sa.Engine]:
        if self._client is None or self._engine is None:
            self._client = DBOSClient(
                system_database_url=self._database_url,
                application_name=self._app_name,
                lazy=True,
            )
            self._engine = create_engine(self._database_url)
        return self._client, self._engine
