"""REST: Connections (credentials are write-only) and their test."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Request
from pydantic import BaseModel

from syncloom.portal.auth import Admin, Operator, Viewer, deps_of
from syncloom.portal.connections import (
    ConnectionChange,
    ConnectionIn,
    ConnectionView,
    create_connection,
    find_connection,
    list_connections,
    update_connection,
)
from syncloom.portal.params import RowId
from syncloom.portal.probes import probe_connection
from syncloom.portal.schemas import EntityFields, EntityList, schemas_of

router = APIRouter(prefix="/connections", tags=["connections"])


class ProbeResult(BaseModel):
    """The answer of a connection test."""

    ok: bool
    message: str


@router.get("")
def connections(request: Request, me: Viewer) -> list[ConnectionView]:
    """List the tenant's connections."""
    with deps_of(request).sessions() as session:
        return [ConnectionView.of(row) for row in list_connections(session, me.tenant_id)]


@router.post("", status_code=201)
def add_connection(request: Request, me: Admin, body: ConnectionIn) -> ConnectionView:
    """Create a connection; credentials are sealed in the vault and never returned."""
    deps = deps_of(request)
    with deps.sessions.begin() as session:
        return ConnectionView.of(create_connection(session, deps, me, body))


@router.get("/{connection_id}")
def connection(request: Request, me: Viewer, connection_id: RowId) -> ConnectionView:
    """One connection."""
    with deps_of(request).sessions() as session:
        return ConnectionView.of(find_connection(session, me.tenant_id, connection_id))


@router.patch("/{connection_id}")
def change_connection(
    request: Request, me: Admin, connection_id: RowId, body: ConnectionChange
) -> ConnectionView:
    """Change environment, base URL or credentials."""
    deps = deps_of(request)
    with deps.sessions.begin() as session:
        return ConnectionView.of(update_connection(session, deps, me, connection_id, body))


@router.post("/{connection_id}/test")
def test_connection(request: Request, me: Operator, connection_id: RowId) -> ProbeResult:
    """Sign in to the system and make one cheap call."""
    ok, message = probe_connection(deps_of(request), me, connection_id)
    return ProbeResult(ok=ok, message=message)


EntityName = Annotated[str, Path(min_length=1, max_length=200)]
Refresh = Annotated[bool, Query(description="ask the system again instead of the kept answer")]


@router.get("/{connection_id}/entities")
def entities(
    request: Request, me: Admin, connection_id: RowId, refresh: Refresh = False
) -> EntityList:
    """The entities of the connection's system a field map can name (kept for an hour)."""
    deps = deps_of(request)
    with deps.sessions() as session:
        row = find_connection(session, me.tenant_id, connection_id)
        session.expunge(row)
    return schemas_of(deps).entities(row, refresh=refresh)


@router.get("/{connection_id}/entities/{entity}/fields")
def entity_fields(
    request: Request, me: Admin, connection_id: RowId, entity: EntityName, refresh: Refresh = False
) -> EntityFields:
    """One entity's fields as the system lists them: standard and custom, with their rules."""
    deps = deps_of(request)
    with deps.sessions() as session:
        row = find_connection(session, me.tenant_id, connection_id)
        session.expunge(row)
    return schemas_of(deps).fields(row, entity, refresh=refresh)
