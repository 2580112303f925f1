"""RecordLog: per record and attempt, what the engine did and why.

Each entry holds the action (created, updated, skipped, deleted, failed...), the field-level
diff with both sides' values and the reason each winner won, and the error if any, so an
operator can read a record's whole history and lineage.

With a vault, each diff and error text is sealed at rest (see :mod:`syncloom.engine.privacy`)
and opened again by the read methods.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from syncloom.engine.privacy import (
    RECORD_LOG_DIFF,
    RECORD_LOG_ERROR,
    seal,
    seal_text,
    unseal,
    unseal_text,
)
from syncloom.store.models import RecordLogEntry
from syncloom.vault import Vault

__all__ = ["RecordLog"]


class RecordLog:
    """Writes and reads the ``record_log`` table for one tenant."""

    def __init__(
        self, sessions: sessionmaker[Session], tenant_id: int, vault: Vault | None = None
    ) -> None:
        self._sessions = sessions
        self.tenant_id = tenant_id
        self.vault = vault

    def add(
        self,
        session: Session,
        *,
        flow: str,
        record_key: str,
        action: str,
        diff: dict[str, Any] | None = None,
        error: str | None = None,
        attempt: int = 1,
        run_id: int | None = None,
    ) -> None:
        """Append one entry inside the caller's transaction."""
        session.add(
            RecordLogEntry(
                tenant_id=self.tenant_id,
                flow=flow,
                record_key=record_key,
                action=action,
                diff=seal(self.vault, self.tenant_id, RECORD_LOG_DIFF, diff or {}),
                error=seal_text(self.vault, self.tenant_id, RECORD_LOG_ERROR, error),
                attempt=attempt,
                run_id=run_id,
            )
        )

    def history(self, flow: str, record_key: str, limit: int = 100) -> Sequence[RecordLogEntry]:
        """The newest entries of one record, newest first."""
        with self._sessions() as session:
            query = (
                RecordLogEntry.scoped(self.tenant_id)
                .where(RecordLogEntry.flow == flow, RecordLogEntry.record_key == record_key)
                .order_by(RecordLogEntry.id.desc())
                .limit(limit)
            )
            entries = list(session.scalars(query))
            for entry in entries:
                session.expunge(entry)
                entry.diff = unseal(self.vault, self.tenant_id, RECORD_LOG_DIFF, entry.diff)
                entry.error = unseal_text(self.vault, self.tenant_id, RECORD_LOG_ERROR, entry.error)
            return entries

    def actions(self, flow: str) -> list[str]:
        """Every action logged for a flow, oldest first (tests and reports)."""
        with self._sessions() as session:
            query = RecordLogEntry.scoped(self.tenant_id).where(RecordLogEntry.flow == flow)
            return [entry.action for entry in session.scalars(query.order_by(RecordLogEntry.id))]
