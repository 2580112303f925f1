"""Connection pages: list, create, edit (credentials write-only), test."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from syncloom.portal.auth import Admin, Operator, Principal, Viewer, deps_of
from syncloom.portal.connections import (
    ConnectionChange,
    ConnectionIn,
    ConnectionView,
    create_connection,
    find_connection,
    list_connections,
    parse_credentials,
    update_connection,
)
from syncloom.portal.forms import parse, read_form
from syncloom.portal.params import RowId
from syncloom.portal.probes import probe_connection
from syncloom.portal.problems import Invalid
from syncloom.portal.rendering import redirect, render
from syncloom.store.models import Environment

router = APIRouter(include_in_schema=False)
SYSTEMS = ("creatio", "intacct", "d365")


def _list_page(
    request: Request, me: Principal, *, form: dict[str, Any] | None = None, errors: Any = None
) -> HTMLResponse:
    with deps_of(request).sessions() as session:
        rows = [ConnectionView.of(row) for row in list_connections(session, me.tenant_id)]
    return render(
        request,
        "connections.html",
        me,
        status_code=422 if errors else 200,
        connections=rows,
        form=form or {},
        errors=errors or {},
        systems=SYSTEMS,
        environments=[str(e) for e in Environment],
    )


@router.get("/connections", response_class=HTMLResponse)
def connections_page(request: Request, me: Viewer) -> Response:
    """Every connection, and a form to add one."""
    return _list_page(request, me)


@router.post("/connections")
async def add_connection(request: Request, me: Admin) -> Response:
    """Create a connection from the form."""
    form = await read_form(request)
    deps = deps_of(request)
    try:
        data = dict(form, credentials=parse_credentials(str(form.get("credentials", ""))))
        with deps.sessions.begin() as session:
            row = create_connection(session, deps, me, parse(ConnectionIn, data))
            name = row.name
    except Invalid as exc:
        form.pop("credentials", None)
        return _list_page(request, me, form=form, errors=exc.by_field())
    return redirect(request, "/connections", f"Connection {name} created.")


@router.get("/connections/{connection_id}", response_class=HTMLResponse)
def connection_page(request: Request, me: Viewer, connection_id: RowId) -> Response:
    """One connection's edit form."""
    with deps_of(request).sessions() as session:
        view = ConnectionView.of(find_connection(session, me.tenant_id, connection_id))
    return render(
        request,
        "connection.html",
        me,
        connection=view,
        errors={},
        environments=[str(e) for e in Environment],
    )


@router.post("/connections/{connection_id}")
async def change_connection(request: Request, me: Admin, connection_id: RowId) -> Response:
    """Save the edit form; blank credentials leave the stored ones alone."""
    form = await read_form(request)
    deps = deps_of(request)
    try:
        data = dict(form, credentials=parse_credentials(str(form.get("credentials", ""))))
        with deps.sessions.begin() as session:
            update_connection(session, deps, me, connection_id, parse(ConnectionChange, data))
    except Invalid as exc:
        with deps.sessions() as session:
            view = ConnectionView.of(find_connection(session, me.tenant_id, connection_id))
        return render(
            request,
            "connection.html",
            me,
            status_code=422,
            connection=view,
            errors=exc.by_field(),
            environments=[str(e) for e in Environment],
        )
    return redirect(request, f"/connections/{connection_id}", "Connection saved.")


@router.post("/connections/{connection_id}/test")
def test_connection(request: Request, me: Operator, connection_id: RowId) -> Response:
    """Run the connection test and show its answer."""
    ok, message = probe_connection(deps_of(request), me, connection_id)
    verdict = "Connection test passed" if ok else "Connection test failed"
    return redirect(
        request, f"/connections/{connection_id}", f"{verdict}: {message}", "ok" if ok else "error"
    )
