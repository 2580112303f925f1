"""Who may do what: tenants, users, roles, memberships, API tokens and the audit log."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from syncloom.store.base import Base, Created, TenantOwned
from syncloom.store.types import str_enum

__all__ = ["ApiToken", "AuditEntry", "Membership", "Role", "RoleName", "Tenant", "User"]


class RoleName(enum.StrEnum):
    """The roles a user can hold in a tenant, from most to least powerful."""

    ADMIN = "admin"
    OPERATOR = "operator"
    VIEWER = "viewer"


class Tenant(Created, Base):
    """One customer's isolated world of connections, flows and history."""

    __tablename__ = "tenants"

    slug: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    is_active: Mapped[bool] = mapped_column(default=True)


class User(Created, Base):
    """A person who signs in to the portal; the password is kept only as an argon2 hash."""

    __tablename__ = "users"

    email: Mapped[str] = mapped_column(String(254), unique=True)
    display_name: Mapped[str] = mapped_column(String(200), default="")
    password_hash: Mapped[str] = mapped_column(String(255))
    is_active: Mapped[bool] = mapped_column(default=True)
    last_login_at: Mapped[datetime | None]


class Role(Created, Base):
    """A named set of permissions (admin, operator, viewer), seeded by the first migration."""

    __tablename__ = "roles"

    name: Mapped[RoleName] = mapped_column(str_enum(RoleName, "role_name"), unique=True)
    description: Mapped[str] = mapped_column(String(200), default="")


class Membership(TenantOwned, Base):
    """A user's role in one tenant."""

    __tablename__ = "memberships"
    __table_args__ = (UniqueConstraint("tenant_id", "user_id"),)

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    role_id: Mapped[int] = mapped_column(ForeignKey("roles.id"))


class ApiToken(TenantOwned, Base):
    """A bearer token for the REST API; only its SHA-256 hash and a display prefix are stored."""

    __tablename__ = "api_tokens"

    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    name: Mapped[str] = mapped_column(String(100))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    prefix: Mapped[str] = mapped_column(String(16))
    expires_at: Mapped[datetime | None]
    last_used_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]


class AuditEntry(TenantOwned, Base):
    """One human or configuration action: replay, dismiss, rollback, credential change..."""

    __tablename__ = "audit_log"

    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    actor: Mapped[str] = mapped_column(String(254))
    action: Mapped[str] = mapped_column(String(64), index=True)
    target: Mapped[str] = mapped_column(String(254))
    delta: Mapped[dict[str, Any]] = mapped_column(default=dict)
    comment: Mapped[str] = mapped_column(Text, default="")
