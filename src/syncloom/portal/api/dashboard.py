"""REST: the dashboard's figures."""

from __future__ import annotations

from fastapi import APIRouter, Request

from syncloom.portal.auth import Viewer, deps_of
from syncloom.portal.dashboard import Dashboard, build_dashboard

router = APIRouter(tags=["dashboard"])


@router.get("/dashboard")
def dashboard(request: Request, me: Viewer) -> Dashboard:
    """Health per flow, records and errors per hour, dead letters and governor use."""
    deps = deps_of(request)
    with deps.sessions() as session:
        return build_dashboard(session, me.tenant_id, deps.clock.now_utc())
