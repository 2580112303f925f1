"""Probes: the "test" buttons (connection test), audited like every manual action."""

from __future__ import annotations

from syncloom.errors import SyncError
from syncloom.portal.auth import Principal
from syncloom.portal.connections import find_connection
from syncloom.portal.deps import PortalDeps
from syncloom.store.audit import AuditLog

__all__ = ["probe_connection"]


def probe_connection(deps: PortalDeps, me: Principal, connection_id: int) -> tuple[bool, str]:
    """Ask the engine to test one of the tenant's connections; returns (ok, message).

    Raises:
        Missing: no such connection in this tenant.
    """
    with deps.sessions() as session:
        name = find_connection(session, me.tenant_id, connection_id).name
    try:
        ok, message = deps.engine.test_connection(me.tenant_id, connection_id)
    except SyncError as exc:
        ok, message = False, exc.message
    with deps.sessions.begin() as session:
        AuditLog(session).record(
            me.tenant_id,
            actor=me.email,
            user_id=me.user_id,
            action="connection.test",
            target=f"connection:{connection_id}:{name}",
            delta={"ok": [None, ok]},
        )
    return ok, message
