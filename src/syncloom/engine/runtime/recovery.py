"""Recovery of departed workers: their unfinished runs go back to the queues, from anywhere.

A worker that dies resumes its own runs when it starts again under the same executor id. A
worker that never comes back (its machine is gone, the deployment shrank) leaves runs that
nobody resumes, and a partitioned queue keeps their record keys blocked. These functions
return such runs to their queues through a client connection, without running any of them in
the calling process, so a short-lived command can do it safely while the live workers pick
them up. Each run resumes after its last checkpointed step, exactly like a restart.
"""

from __future__ import annotations

from collections.abc import Sequence

from dbos import DBOSClient
from dbos._utils import INTERNAL_QUEUE_NAME

from syncloom.engine.governor import release_departed
from syncloom.engine.runtime.handle import JobState
from syncloom.store import make_engine, session_factory

__all__ = ["recover_executors", "unfinished_runs"]


def recover_executors(
    database_url: str, executor_ids: Sequence[str], *, app_name: str = "syncloom"
) -> list[str]:
    """Return every pending run of departed executors to its queue.

    A run started from a queue goes back to that queue with its partition key, so one record
    still never runs twice at once; a run started directly goes to the engine's internal queue.
    Only name executors that are really gone: a live one would see its running jobs started a
    second time. Repeating the call finds nothing more to do. The Governor slots they held are
    freed too.

    Args:
        database_url: The database the workers share.
        executor_ids: The stable ids of the departed workers.
        app_name: The application the runs belong to.

    Returns:
        The workflow ids of the runs handed back.

    Raises:
        ValueError: No executor named.
    """
    wanted = list(dict.fromkeys(executor_ids))
    if not wanted:
        raise ValueError("name at least one executor to recover")
    client = DBOSClient(system_database_url=database_url, application_name=app_name)
    try:
        pending = client.list_workflows(
            status=JobState.PENDING.value,
            executor_id=wanted,
            application_name=app_name,
            load_input=False,
            load_output=False,
        )
        # DBOS 3.4 offers re-enqueueing for recovery only on its system database object; the
        # update is guarded by status and executor id, so a run taken meanwhile is left alone.
        system_db = client._sys_db
        handed_back = [
            status.workflow_id
            for status in pending
            if system_db.reenqueue_for_recovery(status.workflow_id, wanted, INTERNAL_QUEUE_NAME)
        ]
    finally:
        client.destroy()
    # Their Governor slots too, or a Connection's budget stays held until the leases expire.
    engine = make_engine(database_url)
    try:
        release_departed(session_factory(engine), wanted)
    finally:
        engine.dispose()
    return handed_back


def unfinished_runs(
    database_url: str, workflow_ids: Sequence[str], *, app_name: str = "syncloom"
) -> list[str]:
    """The runs among ``workflow_ids`` that have not ended yet.

    Args:
        database_url: The database the workers share.
        workflow_ids: Runs to look at, e.g. those :func:`recover_executors` handed back.
        app_name: The application the runs belong to.

    Returns:
        The ids still queued, delayed or running.
    """
    if not workflow_ids:
        return []
    client = DBOSClient(system_database_url=database_url, application_name=app_name)
    try:
        found = client.list_workflows(
            workflow_ids=list(workflow_ids), load_input=False, load_output=False
        )
        return [s.workflow_id for s in found if not JobState(s.status).is_final]
    finally:
        client.destroy()
