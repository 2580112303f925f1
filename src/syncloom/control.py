"""Engine controls: the portal's handle on the engine (run now, dry run, backfill, replay).

The portal never imports the engine's workflows; it asks an
:class:`~syncloom.portal.control.EngineControl`, always for one tenant. Two implement it:

- :class:`NodeControl` acts on the node running in the same process (``syncloom run``).
- :class:`QueuedControl` serves a portal with no worker in its process (``syncloom web``): it
  enqueues each action as a durable run on the ``actions`` queue of the shared database, and
  the first worker with a free slot runs it. The portal answers 202 with the run's id.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from syncloom.engine import actions, jobs
from syncloom.engine.runtime import Runtime, RuntimeClient
from syncloom.errors import ConfigError, SyncError
from syncloom.node import Node, open_connector
from syncloom.portal.control import JobView, Queued
from syncloom.store.models import Connection
from syncloom.vault import Vault

__all__ = ["PROBE_ENTITIES", "NodeControl", "QueuedControl"]

# One cheap entity per system to prove a Connection signs in and answers.
PROBE_ENTITIES = {"creatio": "Account", "intacct": "CUSTOMER", "d365": "CustomersV3"}


class NodeControl:
    """What the portal may ask of a running :class:`~syncloom.node.Node`."""

    def __init__(self, node: Node) -> None:
        self.node = node
        self._jobs = RuntimeClient(node.database_url, app_version=node.app_version)

    def _runtime(self) -> Runtime:
        if self.node.runtime is None:
            raise ConfigError("the node is not running")
        return self.node.runtime

    def run_now(self, tenant_id: int, flow: str) -> str:
        """Poll ``flow`` now; returns the poll's workflow id."""
        return self.node.poll_now(tenant_id, flow).workflow_id

    def dry_run(self, tenant_id: int, flow: str) -> dict[str, Any]:
        """What a load of ``flow`` would do, without writing anything."""
        from syncloom.engine.bulk import BulkLoad

        inst = jobs.installation(tenant_id)
        load = BulkLoad.for_flow(inst, flow)
        assert self.node.bridge is not None
        report = self.node.bridge.run(load.dry_run())
        summary: dict[str, Any] = report.as_dict()
        return summary

    def backfill(self, tenant_id: int, flow: str, since: datetime) -> str:
        """Start a durable backfill of ``flow`` from ``since``; returns its workflow id."""
        from syncloom.engine.bulk_jobs import bulk_load

        return self._runtime().start(bulk_load, tenant_id, flow, since.isoformat()).workflow_id

    def replay(self, tenant_id: int, dead_letter_ids: Sequence[int]) -> list[int]:
        """Replay dead letters; returns the ids replayed."""
        done = []
        for letter_id in dead_letter_ids:
            jobs.replay_dead_letter(self._runtime(), tenant_id, letter_id)
            done.append(letter_id)
        return done

    def test_connection(self, tenant_id: int, connection_id: int) -> tuple[bool, str]:
        """Sign in and read one page of a cheap entity; (ok, a message fit to show)."""
        assert self.node.bridge is not None
        return self.node.bridge.run(
            probe(self.node.sessions, self.node.vault, tenant_id, connection_id)
        )

    def job(self, tenant_id: int, job: str) -> JobView | None:
        """How a run this tenant started is doing (an action or a poll of its own)."""
        return _job_view(self._jobs, tenant_id, job)


class QueuedControl:
    """Hands every action to the workers through the ``actions`` queue; answers with its job.

    Example::

        control = QueuedControl(RuntimeClient(url, (ACTION_QUEUE_SPEC,)), sessions, vault)
        control.run_now(tenant_id, "accounts")  # a worker polls the flow
    """

    def __init__(
        self, client: RuntimeClient, sessions: sessionmaker[Session], vault: Vault
    ) -> None:
        self._client = client
        self._sessions = sessions
        self._vault = vault

    def _enqueue(self, tenant_id: int, kind: actions.ActionKind, fn: Any, *args: object) -> str:
        job = actions.action_id(tenant_id, kind)
        return self._client.enqueue(actions.ACTION_QUEUE, fn, tenant_id, *args, workflow_id=job)

    def run_now(self, tenant_id: int, flow: str) -> str:
        """Queue a poll of ``flow``; returns its job id."""
        return self._enqueue(tenant_id, actions.ActionKind.RUN_NOW, jobs.poll_flow, flow)

    def dry_run(self, tenant_id: int, flow: str) -> Queued:
        """Queue a dry run of ``flow``; its report is the job's result."""
        return Queued(self._enqueue(tenant_id, actions.ActionKind.DRY_RUN, actions.dry_run, flow))

    def backfill(self, tenant_id: int, flow: str, since: datetime) -> str:
        """Queue a durable backfill of ``flow`` from ``since``; returns its job id."""
        start = since.astimezone(UTC).isoformat()
        return self._enqueue(tenant_id, actions.ActionKind.BACKFILL, actions.bulk_load, flow, start)

    def replay(self, tenant_id: int, dead_letter_ids: Sequence[int]) -> Queued:
        """Queue the replay of dead letters; a worker marks them and enqueues their records."""
        ids = list(dead_letter_ids)
        return Queued(self._enqueue(tenant_id, actions.ActionKind.REPLAY, actions.replay, ids))

    def test_connection(self, tenant_id: int, connection_id: int) -> tuple[bool, str]:
        """Sign in and read one page of a cheap entity, from this process."""
        return asyncio.run(probe(self._sessions, self._vault, tenant_id, connection_id))

    def job(self, tenant_id: int, job: str) -> JobView | None:
        """How one of this tenant's actions is doing."""
        return _job_view(self._client, tenant_id, job)


def _job_view(client: RuntimeClient, tenant_id: int, job: str) -> JobView | None:
    # Another tenant's job ids look just like this tenant's: answer only for its own.
    if not actions.is_action_of(tenant_id, job):
        return None
    found = client.status(job)
    if found is None:
        return None
    return JobView(job, found.state.value, found.output, found.error)


async def probe(
    sessions: sessionmaker[Session], vault: Vault, tenant_id: int, connection_id: int
) -> tuple[bool, str]:
    """Sign in to a Connection and read one page of a cheap entity; (ok, a message to show)."""
    with sessions() as session:
        row = session.get(Connection, connection_id)
        if row is None or row.tenant_id != tenant_id:
            return False, "no such connection"
        session.expunge(row)
    try:
        connector = open_connector(row, vault)
    except SyncError as exc:
        return False, str(exc)
    try:
        entity = PROBE_ENTITIES.get(row.system, "")
        await connector.read_changes(entity, datetime.now(UTC), None, page_size=1)
    except SyncError as exc:
        return False, f"{type(exc).__name__}: {exc}"
    finally:
        await connector.aclose()
    return True, f"signed in to {row.system} at {row.base_url}"
