"""Routes: the one table of the portal's routers, so every area is wired in one place."""

from __future__ import annotations

from fastapi import APIRouter, FastAPI

from syncloom.portal.api import alerts as alerts_api
from syncloom.portal.api import configs as configs_api
from syncloom.portal.api import connections as connections_api
from syncloom.portal.api import dashboard as dashboard_api
from syncloom.portal.api import dead_letters as dead_letters_api
from syncloom.portal.api import flows as flows_api
from syncloom.portal.api import history as history_api
from syncloom.portal.api import jobs as jobs_api
from syncloom.portal.api import people as people_api
from syncloom.portal.pages import (
    alerts,
    configs,
    connections,
    dashboard,
    dead_letters,
    flows,
    history,
    people,
    signin,
)

__all__ = ["include_routes"]

PAGE_ROUTERS: tuple[APIRouter, ...] = (
    signin.router,
    dashboard.router,
    connections.router,
    dead_letters.router,
    configs.router,
    flows.router,
    history.router,
    alerts.router,
    people.router,
)
API_ROUTERS: tuple[APIRouter, ...] = (
    connections_api.router,
    dead_letters_api.router,
    configs_api.router,
    flows_api.router,
    history_api.router,
    dashboard_api.router,
    alerts_api.router,
    people_api.router,
    jobs_api.router,
)


def include_routes(app: FastAPI) -> None:
    """Mount every page router at ``/`` and every API router at ``/api``."""
    for router in PAGE_ROUTERS:
        app.include_router(router)
    for router in API_ROUTERS:
        app.include_router(router, prefix="/api")
