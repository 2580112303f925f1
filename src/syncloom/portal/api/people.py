"""REST: the audit log, members and roles, tenants and API tokens."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, Field

from syncloom.portal import people
from syncloom.portal.auth import Admin, Viewer, deps_of
from syncloom.portal.params import RowId
from syncloom.portal.people import TENANT_SLUG, MemberIn, MemberView, TenantView, TokenView
from syncloom.store.models import AuditEntry, RoleName

router = APIRouter(tags=["people and audit"])


class AuditView(BaseModel):
    """One audit entry."""

    id: int
    actor: str
    action: str
    target: str
    delta: dict[str, Any]
    comment: str
    created_at: datetime


class RoleBody(BaseModel):
    """A member's new role."""

    role: RoleName


class TenantBody(BaseModel):
    """A new tenant."""

    slug: str = Field(pattern=TENANT_SLUG)
    name: str = Field(min_length=1, max_length=200)


class TokenBody(BaseModel):
    """What to call a new token."""

    name: str = Field(min_length=1, max_length=100)


class PasswordBody(BaseModel):
    """Your current password and the new one."""

    current_password: str = Field(max_length=1024)
    new_password: str = Field(max_length=1024)


class IssuedTokenView(TokenView):
    """A new token, with its secret: shown this once, never again."""

    secret: str


@router.get("/audit")
def audit(
    request: Request,
    me: Viewer,
    action: Annotated[str | None, Query(max_length=64)] = None,
    actor: Annotated[str | None, Query(max_length=254)] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> list[AuditView]:
    """The tenant's audit log, newest first."""
    query = AuditEntry.scoped(me.tenant_id)
    if action:
        query = query.where(AuditEntry.action == action)
    if actor:
        query = query.where(AuditEntry.actor == actor)
    query = query.order_by(AuditEntry.id.desc()).limit(limit)
    with deps_of(request).sessions() as session:
        return [
            AuditView.model_validate(row, from_attributes=True) for row in session.scalars(query)
        ]


@router.get("/users")
def members(request: Request, me: Viewer) -> list[MemberView]:
    """The tenant's members and their roles."""
    with deps_of(request).sessions() as session:
        return people.list_members(session, me.tenant_id)


@router.post("/users", status_code=201)
def add_member(request: Request, me: Admin, body: MemberIn) -> MemberView:
    """Add a person with a role (creating their account when new)."""
    with deps_of(request).sessions.begin() as session:
        return people.add_member(session, me, body)


@router.patch("/users/{user_id}", status_code=204)
def change_role(request: Request, me: Admin, user_id: RowId, body: RoleBody) -> None:
    """Change a member's role."""
    with deps_of(request).sessions.begin() as session:
        people.change_role(session, me, user_id, body.role)


@router.delete("/users/{user_id}", status_code=204)
def remove_member(request: Request, me: Admin, user_id: RowId) -> None:
    """Take a member out of the tenant."""
    with deps_of(request).sessions.begin() as session:
        people.remove_member(session, me, user_id)


@router.get("/tenants")
def tenants(request: Request, me: Viewer) -> list[TenantView]:
    """The tenants you belong to."""
    with deps_of(request).sessions() as session:
        return people.list_tenants(session, me.user_id)


@router.post("/tenants", status_code=201)
def create_tenant(request: Request, me: Admin, body: TenantBody) -> TenantView:
    """Create a tenant with you as its admin."""
    with deps_of(request).sessions.begin() as session:
        return people.create_tenant(session, me, body.slug, body.name)


@router.get("/tokens")
def tokens(request: Request, me: Viewer) -> list[TokenView]:
    """API tokens: yours, or all of the tenant's for admins."""
    with deps_of(request).sessions() as session:
        return people.list_tokens(session, me)


@router.post("/tokens", status_code=201)
def issue_token(request: Request, me: Viewer, body: TokenBody) -> IssuedTokenView:
    """Issue a token that acts as you in this tenant; the secret is in this answer only."""
    with deps_of(request).sessions.begin() as session:
        issued = people.issue_token(session, me, body.name)
        view = TokenView.model_validate(issued.row, from_attributes=True)
        return IssuedTokenView(**view.model_dump(), secret=issued.reveal())


@router.delete("/tokens/{token_id}", status_code=204)
def revoke_token(request: Request, me: Viewer, token_id: RowId) -> None:
    """Revoke a token."""
    deps = deps_of(request)
    with deps.sessions.begin() as session:
        people.revoke_token(session, me, token_id, deps.clock.now_utc())


@router.post("/account/password", status_code=204)
def change_password(request: Request, me: Viewer, body: PasswordBody) -> None:
    """Change your own password; your other sessions end."""
    with deps_of(request).sessions.begin() as session:
        people.change_password(session, me, body.current_password, body.new_password)
