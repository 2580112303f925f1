"""The dashboard page."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from syncloom.portal.auth import Viewer
from syncloom.portal.rendering import render

router = APIRouter(include_in_schema=False)


@router.get("/", response_class=HTMLResponse)
def dashboard(request: Request, me: Viewer) -> Response:
    """Health, throughput and errors per flow."""
    return render(request, "dashboard.html", me)
