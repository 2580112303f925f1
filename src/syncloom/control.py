"""NodeControl: the portal's handle on a running node (run now, dry run, backfill, replay).

The portal never imports the engine's workflows; it asks this object, which acts on the
node's runtime and installations, always for one tenant.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from syncloom.engine import jobs
from syncloom.engine.runtime import Runtime
from syncloom.errors import ConfigError, SyncError
from syncloom.node import Node, open_connector
from syncloom.store.models import Connection

__all__ = ["PROBE_ENTITIES", "NodeControl"]

# One cheap entity per system to prove a Connection signs in and answers.
PROBE_ENTITIES = {"creatio": "Account", "intacct": "CUSTOMER", "d365": "CustomersV3"}


class NodeControl:
    """What the portal may ask of a running :class:`~syncloom.node.Node`."""

    def __init__(self, node: Node) -> None:
        self.node = node

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
        with self.node.sessions() as session:
            row = session.get(Connection, connection_id)
            if row is None or row.tenant_id != tenant_id:
                return False, "no such connection"
            session.expunge(row)
        assert self.node.bridge is not None
        try:
            connector = open_connector(row, self.node.vault)
        except SyncError as exc:
            return False, str(exc)
        try:
            entity = PROBE_ENTITIES.get(row.system, "")
            self.node.bridge.run(
                connector.read_changes(entity, datetime.now(UTC), None, page_size=1)
            )
        except SyncError as exc:
            return False, f"{type(exc).__name__}: {exc}"
        finally:
            self.node.bridge.run(connector.aclose())
        return True, f"signed in to {row.system} at {row.base_url}"
