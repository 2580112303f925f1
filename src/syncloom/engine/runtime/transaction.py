"""Transaction: our rows and the jobs they imply commit together, or not at all.

Enqueueing after a commit loses the job if the process dies in between; enqueueing before it
makes a job that may run before its rows are visible. DBOS can insert a queued workflow through
a caller-owned SQLAlchemy connection to its database, so when our tables live in the same
database (one SQLite file, or one PostgreSQL database with a schema each) the intake row, the
watermark advance and the enqueue are one transaction.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

import sqlalchemy as sa
from dbos import DBOSClient, EnqueueOptions, WorkflowHandle

from syncloom.engine.runtime.queues import QueueSpec, check_enqueue

__all__ = ["Transaction"]


class Transaction:
    """One open transaction on the runtime's database.

    Write with :attr:`connection` and enqueue with :meth:`enqueue`; both commit when the
    ``with runtime.transaction()`` block ends normally and roll back if it raises.
    """

    def __init__(
        self,
        connection: sa.Connection,
        client: DBOSClient,
        queues: Mapping[str, QueueSpec],
        app_version: str,
    ) -> None:
        self.connection = connection
        self._client = client
        self._queues = queues
        self._app_version = app_version
        self.enqueued = 0

    def enqueue(
        self,
        queue: str,
        fn: Callable[..., object],
        *args: object,
        partition_key: str | None = None,
        workflow_id: str | None = None,
    ) -> str:
        """Enqueue a durable workflow inside this transaction.

        Args:
            queue: A queue registered with the runtime.
            fn: A function declared with ``@durable_workflow``.
            *args: Its arguments; they must be serialisable.
            partition_key: Required on a partitioned queue (the record key).
            workflow_id: The run's id; generated when None.

        Returns:
            The workflow id; find the run with ``Runtime.job`` after the commit.

        Raises:
            TypeError: ``fn`` is not declared with ``@durable_workflow``.
            ValueError: The queue or the partition key do not fit.
        """
        check_enqueue(self._queues, queue, partition_key)
        name = getattr(fn, "dbos_function_name", None)
        if not isinstance(name, str):
            raise TypeError(f"{fn!r} is not declared with @durable_workflow")
        options: EnqueueOptions = {
            "workflow_name": name,
            "queue_name": queue,
            "app_version": self._app_version,
        }
        if partition_key:
            options["queue_partition_key"] = partition_key
        if workflow_id:
            options["workflow_id"] = workflow_id
        handle: WorkflowHandle[object] = self._client.enqueue_in_transaction(
            self.connection, options, *args
        )
        self.enqueued += 1
        return handle.get_workflow_id()
