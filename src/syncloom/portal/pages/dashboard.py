"""The dashboard page: health per flow, charts of throughput and errors, lag, governors."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from syncloom.portal.auth import Viewer, deps_of
from syncloom.portal.charts import bar_chart
from syncloom.portal.dashboard import build_dashboard
from syncloom.portal.rendering import render

router = APIRouter(include_in_schema=False)


@router.get("/", response_class=HTMLResponse)
def dashboard(request: Request, me: Viewer) -> Response:
    """Health, throughput and errors per flow."""
    deps = deps_of(request)
    with deps.sessions() as session:
        figures = build_dashboard(session, me.tenant_id, deps.clock.now_utc())
    synced = [(f"{h.hour:%H}:00", float(h.synced)) for h in figures.hours]
    errors = [(f"{h.hour:%H}:00", float(h.errors)) for h in figures.hours]
    return render(
        request,
        "dashboard.html",
        me,
        figures=figures,
        throughput_chart=bar_chart(synced, title="Records synced per hour (last 24 h, UTC)"),
        errors_chart=bar_chart(errors, title="Errors per hour (last 24 h, UTC)", color="#b42318"),
    )
