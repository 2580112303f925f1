"""AuditLog: who did what to which thing, for every manual action and config change."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy.orm import Session

from syncloom.store.models import AuditEntry

__all__ = ["AuditLog"]


class AuditLog:
    """Appends to and reads a tenant's audit log, within the caller's session and transaction."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def record(
        self,
        tenant_id: int,
        *,
        actor: str,
        action: str,
        target: str,
        delta: dict[str, Any] | None = None,
        user_id: int | None = None,
        comment: str = "",
    ) -> AuditEntry:
        """Append one entry (e.g. ``action="dead_letter.replay"``, ``target="dead_letter:42"``).

        Args:
            tenant_id: the tenant the action touched.
            actor: the user's email, or ``"system"``.
            action: a dotted verb naming what was done.
            target: what it was done to.
            delta: what changed, as ``{"field": [old, new]}``; never secrets.
            user_id: the acting user's id, when a person acted.
            comment: the reason given.

        Returns:
            The flushed entry.
        """
        entry = AuditEntry(
            tenant_id=tenant_id,
            user_id=user_id,
            actor=actor,
            action=action,
            target=target,
            delta=delta or {},
            comment=comment,
        )
        self.session.add(entry)
        self.session.flush()
        return entry

    def entries(self, tenant_id: int, *, limit: int = 100) -> Sequence[AuditEntry]:
        """The newest entries of one tenant, newest first."""
        query = (
            AuditEntry.scoped(tenant_id)
            .order_by(AuditEntry.created_at.desc(), AuditEntry.id.desc())
            .limit(limit)
        )
        return self.session.scalars(query).all()
