"""Accounts: creating tenants and users, checking passwords, issuing and checking API tokens.

Passwords are kept as argon2 hashes. API tokens are long random strings, so a SHA-256 hash is
enough to store them and keeps the per-request check cheap.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from syncloom.errors import ConfigError
from syncloom.store.models import ApiToken, Membership, Role, RoleName, Tenant, User
from syncloom.store.types import utc_now

__all__ = ["Accounts", "IssuedToken", "hash_token"]

TOKEN_PREFIX = "slt_"
_hasher = PasswordHasher()


def hash_token(token: str) -> str:
    """The stored form of an API token (hex SHA-256)."""
    return hashlib.sha256(token.encode()).hexdigest()


class IssuedToken:
    """A freshly issued API token: the row, and the secret shown to its owner exactly once."""

    def __init__(self, row: ApiToken, secret: str) -> None:
        self.row = row
        self._secret = secret

    def reveal(self) -> str:
        """The token itself; call once, to show it to its owner."""
        return self._secret

    def __repr__(self) -> str:
        return f"IssuedToken(prefix={self.row.prefix!r})"


class Accounts:
    """Tenants, users, memberships and API tokens, within the caller's session."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def create_tenant(self, slug: str, name: str) -> Tenant:
        """Create a tenant (``slug`` is unique)."""
        tenant = Tenant(slug=slug, name=name)
        self.session.add(tenant)
        self.session.flush()
        return tenant

    def create_user(self, email: str, password: str, *, display_name: str = "") -> User:
        """Create a user, keeping only the argon2 hash of ``password``."""
        user = User(
            email=email.strip().lower(),
            display_name=display_name,
            password_hash=_hasher.hash(password),
        )
        self.session.add(user)
        self.session.flush()
        return user

    def authenticate(self, email: str, password: str) -> User | None:
        """The active user with this email and password, or ``None``."""
        user = self.session.scalars(
            select(User).where(User.email == email.strip().lower(), User.is_active.is_(True))
        ).first()
        if user is None:
            return None
        try:
            _hasher.verify(user.password_hash, password)
        except (VerificationError, InvalidHashError):
            return None
        if _hasher.check_needs_rehash(user.password_hash):
            user.password_hash = _hasher.hash(password)
        return user

    def grant(self, tenant_id: int, user_id: int, role: RoleName) -> Membership:
        """Give a user a role in a tenant, replacing any role they had there."""
        role_row = self.session.scalars(select(Role).where(Role.name == role)).first()
        if role_row is None:
            raise ConfigError(f"role {role} is missing; run `syncloom db upgrade`")
        membership = self.session.scalars(
            Membership.scoped(tenant_id).where(Membership.user_id == user_id)
        ).first()
        if membership is None:
            membership = Membership(tenant_id=tenant_id, user_id=user_id, role_id=role_row.id)
            self.session.add(membership)
        membership.role_id = role_row.id
        self.session.flush()
        return membership

    def role_of(self, tenant_id: int, user_id: int) -> RoleName | None:
        """The user's role in the tenant, or ``None`` when they have none."""
        query = (
            select(Role.name)
            .join(Membership, Membership.role_id == Role.id)
            .where(Membership.tenant_id == tenant_id, Membership.user_id == user_id)
        )
        return self.session.scalars(query).first()

    def issue_token(
        self,
        tenant_id: int,
        name: str,
        *,
        user_id: int | None = None,
        expires_at: datetime | None = None,
    ) -> IssuedToken:
        """Create an API token; the secret is in the result and nowhere else."""
        secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
        row = ApiToken(
            tenant_id=tenant_id,
            user_id=user_id,
            name=name,
            token_hash=hash_token(secret),
            prefix=secret[:12],
            expires_at=expires_at,
        )
        self.session.add(row)
        self.session.flush()
        return IssuedToken(row, secret)

    def check_token(self, secret: str, *, now: datetime | None = None) -> ApiToken | None:
        """The live token row matching ``secret`` (not revoked, not expired), or ``None``."""
        row = self.session.scalars(
            select(ApiToken).where(ApiToken.token_hash == hash_token(secret))
        ).first()
        moment = now or utc_now()
        if row is None or row.revoked_at is not None:
            return None
        if row.expires_at is not None and row.expires_at <= moment:
            return None
        row.last_used_at = moment
        return row
