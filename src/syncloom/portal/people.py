"""People: a tenant's members and their roles, the user's tenants, and API tokens.

Every change is audited. A tenant always keeps at least one admin, so nobody can lock
everyone out by demoting or removing the last one.
"""

from __future__ import annotations

from datetime import datetime

from argon2 import PasswordHasher
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from syncloom.portal.auth import Principal
from syncloom.portal.problems import FieldProblem, Invalid, Missing
from syncloom.store.accounts import Accounts, IssuedToken
from syncloom.store.audit import AuditLog
from syncloom.store.models import ApiToken, Membership, Role, RoleName, Tenant, User

__all__ = [
    "TENANT_SLUG",
    "MemberIn",
    "MemberView",
    "TenantView",
    "TokenView",
    "add_member",
    "change_password",
    "change_role",
    "create_tenant",
    "issue_token",
    "list_members",
    "list_tenants",
    "list_tokens",
    "remove_member",
    "revoke_token",
]


_HASHER = PasswordHasher()
TENANT_SLUG = r"^[a-z][a-z0-9\-]{1,63}$"


class MemberIn(BaseModel):
    """A person to add to the tenant (created when new, with this password)."""

    model_config = ConfigDict(extra="forbid")

    email: str = Field(pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$", max_length=254)
    role: RoleName
    display_name: str = Field(default="", max_length=200)
    password: str | None = Field(default=None, min_length=12, max_length=1024)


class MemberView(BaseModel):
    """A member of the tenant."""

    user_id: int
    email: str
    display_name: str
    role: RoleName
    last_login_at: datetime | None


class TenantView(BaseModel):
    """A tenant the user belongs to."""

    id: int
    slug: str
    name: str
    role: RoleName


class TokenView(BaseModel):
    """An API token (never its secret)."""

    id: int
    name: str
    prefix: str
    user_id: int | None
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None


def _audit(
    session: Session, me: Principal, action: str, target: str, **delta: tuple[object, object]
) -> None:
    AuditLog(session).record(
        me.tenant_id,
        actor=me.email,
        user_id=me.user_id,
        action=action,
        target=target,
        delta={k: list(v) for k, v in delta.items()},
    )


def list_members(session: Session, tenant_id: int) -> list[MemberView]:
    """The tenant's members by email."""
    rows = session.execute(
        select(User, Role.name)
        .join(Membership, Membership.user_id == User.id)
        .join(Role, Role.id == Membership.role_id)
        .where(Membership.tenant_id == tenant_id)
        .order_by(User.email)
    )
    return [
        MemberView(
            user_id=u.id,
            email=u.email,
            display_name=u.display_name,
            role=r,
            last_login_at=u.last_login_at,
        )
        for u, r in rows
    ]


def _admins(session: Session, tenant_id: int) -> int:
    return (
        session.scalar(
            select(func.count(Membership.id))
            .join(Role, Role.id == Membership.role_id)
            .where(Membership.tenant_id == tenant_id, Role.name == RoleName.ADMIN)
        )
        or 0
    )


def add_member(session: Session, me: Principal, data: MemberIn) -> MemberView:
    """Grant a role to a person, creating their account when new."""
    accounts = Accounts(session)
    user = session.scalar(select(User).where(User.email == data.email.strip().lower()))
    if user is None:
        if data.password is None:
            raise Invalid(
                [FieldProblem("password", "a new user needs a password (12+ characters)")]
            )
        user = accounts.create_user(data.email, data.password, display_name=data.display_name)
    if accounts.role_of(me.tenant_id, user.id) is not None:
        raise Invalid([FieldProblem("email", "already a member; change their role instead")])
    accounts.grant(me.tenant_id, user.id, data.role)
    _audit(session, me, "user.add", f"user:{user.id}:{user.email}", role=(None, str(data.role)))
    return MemberView(
        user_id=user.id,
        email=user.email,
        display_name=user.display_name,
        role=data.role,
        last_login_at=user.last_login_at,
    )


def change_role(session: Session, me: Principal, user_id: int, role: RoleName) -> None:
    """Give a member another role (never demoting the last admin)."""
    accounts = Accounts(session)
    before = accounts.role_of(me.tenant_id, user_id)
    if before is None:
        raise Missing(f"no member {user_id}")
    if before == RoleName.ADMIN and role != RoleName.ADMIN and _admins(session, me.tenant_id) <= 1:
        raise Invalid([FieldProblem("role", "the tenant needs at least one admin")])
    accounts.grant(me.tenant_id, user_id, role)
    _audit(session, me, "user.role_change", f"user:{user_id}", role=(str(before), str(role)))


def remove_member(session: Session, me: Principal, user_id: int) -> None:
    """Take a member out of the tenant (never the last admin)."""
    membership = session.scalar(
        Membership.scoped(me.tenant_id).where(Membership.user_id == user_id)
    )
    if membership is None:
        raise Missing(f"no member {user_id}")
    if (
        Accounts(session).role_of(me.tenant_id, user_id) == RoleName.ADMIN
        and _admins(session, me.tenant_id) <= 1
    ):
        raise Invalid([FieldProblem("user_id", "the tenant needs at least one admin")])
    session.delete(membership)
    _audit(session, me, "user.remove", f"user:{user_id}")


def list_tenants(session: Session, user_id: int) -> list[TenantView]:
    """The tenants the user belongs to, with their role in each."""
    rows = session.execute(
        select(Tenant, Role.name)
        .join(Membership, Membership.tenant_id == Tenant.id)
        .join(Role, Role.id == Membership.role_id)
        .where(Membership.user_id == user_id)
        .order_by(Tenant.name)
    )
    return [TenantView(id=t.id, slug=t.slug, name=t.name, role=r) for t, r in rows]


def create_tenant(session: Session, me: Principal, slug: str, name: str) -> TenantView:
    """Create a tenant with the caller as its admin."""
    if session.scalar(select(Tenant.id).where(Tenant.slug == slug)) is not None:
        raise Invalid([FieldProblem("slug", f"the slug {slug!r} is taken")])
    accounts = Accounts(session)
    tenant = accounts.create_tenant(slug, name)
    accounts.grant(tenant.id, me.user_id, RoleName.ADMIN)
    AuditLog(session).record(
        tenant.id,
        actor=me.email,
        user_id=me.user_id,
        action="tenant.create",
        target=f"tenant:{tenant.id}:{slug}",
    )
    return TenantView(id=tenant.id, slug=slug, name=name, role=RoleName.ADMIN)


def list_tokens(session: Session, me: Principal) -> list[TokenView]:
    """The tenant's API tokens (all for admins, one's own otherwise)."""
    query = ApiToken.scoped(me.tenant_id).order_by(ApiToken.id)
    if not me.can(RoleName.ADMIN):
        query = query.where(ApiToken.user_id == me.user_id)
    return [TokenView.model_validate(row, from_attributes=True) for row in session.scalars(query)]


def issue_token(session: Session, me: Principal, name: str) -> IssuedToken:
    """Issue a token acting as the caller in this tenant; its secret is shown once."""
    issued = Accounts(session).issue_token(me.tenant_id, name, user_id=me.user_id)
    _audit(session, me, "token.issue", f"token:{issued.row.id}:{issued.row.prefix}")
    return issued


def revoke_token(session: Session, me: Principal, token_id: int, now: datetime) -> None:
    """Revoke a token (one's own, or any in the tenant for admins)."""
    row = session.get(ApiToken, token_id)
    mine = row is not None and row.user_id == me.user_id
    if row is None or row.tenant_id != me.tenant_id or not (mine or me.can(RoleName.ADMIN)):
        raise Missing(f"no token {token_id}")
    row.revoked_at = row.revoked_at or now
    _audit(session, me, "token.revoke", f"token:{row.id}:{row.prefix}")


def change_password(session: Session, me: Principal, current: str, new: str) -> None:
    """Change the caller's own password (every other session of theirs ends with it).

    Raises:
        Invalid: the current password is wrong, or the new one is shorter than 12 characters.
    """
    if len(new) < 12:
        raise Invalid([FieldProblem("new_password", "use at least 12 characters")])
    user = session.get(User, me.user_id)
    if user is None or Accounts(session).authenticate(user.email, current) is None:
        raise Invalid([FieldProblem("current_password", "that is not your current password")])
    user.password_hash = _HASHER.hash(new)
    _audit(session, me, "user.password_change", f"user:{user.id}:{user.email}")
