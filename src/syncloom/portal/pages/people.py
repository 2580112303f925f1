"""Audit-log and users pages: members and roles, tenants, API tokens."""

from __future__ import annotations

import re
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from syncloom.portal import people
from syncloom.portal.auth import Admin, Principal, Viewer, deps_of, start_session
from syncloom.portal.forms import parse, read_form
from syncloom.portal.params import RowId
from syncloom.portal.people import TENANT_SLUG, MemberIn
from syncloom.portal.problems import Invalid
from syncloom.portal.rendering import redirect, render
from syncloom.store.models import AuditEntry, RoleName

router = APIRouter(include_in_schema=False)


@router.get("/audit", response_class=HTMLResponse)
def audit_page(request: Request, me: Viewer) -> Response:
    """The audit log, newest first, filtered by action."""
    action = request.query_params.get("action", "")[:64]
    query = AuditEntry.scoped(me.tenant_id)
    if action:
        query = query.where(AuditEntry.action == action)
    with deps_of(request).sessions() as session:
        entries = list(session.scalars(query.order_by(AuditEntry.id.desc()).limit(200)))
    return render(request, "audit.html", me, entries=entries, action=action)


def _page(
    request: Request, me: Principal, *, errors: Any = None, form: Any = None, secret: str = ""
) -> HTMLResponse:
    with deps_of(request).sessions() as session:
        context = {
            "members": people.list_members(session, me.tenant_id),
            "tenants": people.list_tenants(session, me.user_id),
            "tokens": people.list_tokens(session, me),
        }
    return render(
        request,
        "users.html",
        me,
        status_code=422 if errors else 200,
        errors=errors or {},
        form=form or {},
        secret=secret,
        roles=[str(r) for r in RoleName],
        **context,
    )


@router.get("/users", response_class=HTMLResponse)
def users_page(request: Request, me: Viewer) -> Response:
    """Members, roles, tenants and API tokens."""
    return _page(request, me)


@router.post("/users")
async def add_member(request: Request, me: Admin) -> Response:
    """Add a person to the tenant."""
    form = await read_form(request)
    data = {k: v for k, v in form.items() if v != ""}
    try:
        with deps_of(request).sessions.begin() as session:
            added = people.add_member(session, me, parse(MemberIn, data))
    except Invalid as exc:
        form.pop("password", None)
        return _page(request, me, errors=exc.by_field(), form=form)
    return redirect(request, "/users", f"{added.email} added as {added.role}.")


@router.post("/users/{user_id}/role")
async def change_role(request: Request, me: Admin, user_id: RowId) -> Response:
    """Change a member's role."""
    role = str((await request.form()).get("role", ""))
    if role not in set(RoleName):
        return redirect(request, "/users", "role: choose admin, operator or viewer", "error")
    try:
        with deps_of(request).sessions.begin() as session:
            people.change_role(session, me, user_id, RoleName(role))
    except Invalid as exc:
        return redirect(request, "/users", str(exc), "error")
    return redirect(request, "/users", f"Role changed to {role}.")


@router.post("/users/{user_id}/remove")
def remove_member(request: Request, me: Admin, user_id: RowId) -> Response:
    """Take a member out of the tenant."""
    try:
        with deps_of(request).sessions.begin() as session:
            people.remove_member(session, me, user_id)
    except Invalid as exc:
        return redirect(request, "/users", str(exc), "error")
    return redirect(request, "/users", "Member removed.")


@router.post("/tenants")
async def create_tenant(request: Request, me: Admin) -> Response:
    """Create a tenant with the caller as admin."""
    form = await read_form(request)
    slug, name = str(form.get("slug", "")).strip(), str(form.get("tenant_name", "")).strip()
    if not re.match(TENANT_SLUG, slug) or not name:
        errors = {"slug": "lower-case letters, digits and '-'; and give a name"}
        return _page(request, me, errors=errors, form=form)
    try:
        with deps_of(request).sessions.begin() as session:
            people.create_tenant(session, me, slug, name[:200])
    except Invalid as exc:
        return _page(request, me, errors=exc.by_field(), form=form)
    return redirect(request, "/users", f"Tenant {name} created; switch to it above.")


@router.post("/tokens", response_class=HTMLResponse)
async def issue_token(request: Request, me: Viewer) -> Response:
    """Issue a token and show its secret this once."""
    name = str((await request.form()).get("token_name", "")).strip()[:100]
    if not name:
        return _page(request, me, errors={"token_name": "name the token"})
    with deps_of(request).sessions.begin() as session:
        secret = people.issue_token(session, me, name).reveal()
    return _page(request, me, secret=secret)


@router.post("/tokens/{token_id}/revoke")
def revoke_token(request: Request, me: Viewer, token_id: RowId) -> Response:
    """Revoke a token."""
    deps = deps_of(request)
    with deps.sessions.begin() as session:
        people.revoke_token(session, me, token_id, deps.clock.now_utc())
    return redirect(request, "/users", "Token revoked.")


@router.post("/account/password")
async def change_password(request: Request, me: Viewer) -> Response:
    """Change one's own password and stay signed in here."""
    form = await request.form()
    current = str(form.get("current_password", ""))[:1024]
    new = str(form.get("new_password", ""))[:1024]
    try:
        with deps_of(request).sessions.begin() as session:
            people.change_password(session, me, current, new)
    except Invalid as exc:
        return _page(request, me, errors=exc.by_field())
    response = redirect(request, "/users", "Password changed; your other sessions have ended.")
    start_session(request, response, me.user_id, me.tenant_id)
    return response
