"""Actions: run now, dry run and backfill, asked of the engine and audited.

The portal checks the flow exists in the tenant (and is switched on, for anything that
writes), then hands over to :class:`~syncloom.portal.control.EngineControl`.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from syncloom.errors import ConfigError
from syncloom.portal.auth import Principal
from syncloom.portal.control import Queued
from syncloom.portal.deps import PortalDeps
from syncloom.portal.flows import current_document, find_flow, states
from syncloom.store.audit import AuditLog

__all__ = ["backfill", "dry_run", "run_now"]


def _check(deps: PortalDeps, me: Principal, flow: str, *, writes: bool) -> None:
    with deps.sessions() as session:
        find_flow(current_document(session, me.tenant_id), flow)
        if writes and not states(session, me.tenant_id).get(flow, True):
            raise ConfigError(f"flow {flow} is switched off; switch it on first")


def _audit(deps: PortalDeps, me: Principal, action: str, flow: str, **delta: Any) -> None:
    with deps.sessions.begin() as session:
        AuditLog(session).record(
            me.tenant_id,
            actor=me.email,
            user_id=me.user_id,
            action=action,
            target=f"flow:{flow}",
            delta={name: [None, value] for name, value in delta.items()},
        )


def run_now(deps: PortalDeps, me: Principal, flow: str) -> str:
    """Start a poll of the flow now; returns the engine's run id."""
    _check(deps, me, flow, writes=True)
    run_id = deps.engine.run_now(me.tenant_id, flow)
    _audit(deps, me, "flow.run_now", flow, run=run_id)
    return run_id


def dry_run(deps: PortalDeps, me: Principal, flow: str) -> dict[str, Any] | Queued:
    """Read and map without writing; returns the engine's report, or its job for a worker."""
    _check(deps, me, flow, writes=False)
    report = deps.engine.dry_run(me.tenant_id, flow)
    if isinstance(report, Queued):
        _audit(deps, me, "flow.dry_run", flow, job=report.job)
    else:
        _audit(deps, me, "flow.dry_run", flow)
    return report


def backfill(deps: PortalDeps, me: Principal, flow: str, since: datetime) -> str:
    """Start a backfill from ``since``; returns the engine's run id."""
    _check(deps, me, flow, writes=True)
    run_id = deps.engine.backfill(me.tenant_id, flow, since)
    _audit(deps, me, "flow.backfill", flow, since=since.isoformat(), run=run_id)
    return run_id
