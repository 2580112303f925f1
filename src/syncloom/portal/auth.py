"""Auth: who is asking (session cookie or API token), in which tenant, with which role.

Every route depends on :func:`require` with the least role it needs. The dependency signs the
caller in, looks their role up afresh (a revoked membership takes effect at once), and for
cookie-authenticated changes checks the CSRF token, from the ``csrf_token`` form field or the
``X-CSRF-Token`` header. Scripts using a bearer token send no cookie, so CSRF cannot reach them.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request, Response
from sqlalchemy import select
from starlette.concurrency import run_in_threadpool

from syncloom.portal.deps import PortalDeps
from syncloom.portal.problems import Forbidden, NotSignedIn
from syncloom.store.accounts import Accounts
from syncloom.store.models import Membership, RoleName, Tenant, User

__all__ = [
    "SESSION_COOKIE",
    "Admin",
    "Operator",
    "Viewer",
    "Principal",
    "deps_of",
    "end_session",
    "identify",
    "require",
    "start_session",
]

SESSION_COOKIE = "syncloom_session"
_RANK = {RoleName.VIEWER: 1, RoleName.OPERATOR: 2, RoleName.ADMIN: 3}
_SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}


@dataclass(frozen=True, slots=True)
class Principal:
    """The signed-in caller: a user acting in one tenant with one role."""

    user_id: int
    email: str
    tenant_id: int
    role: RoleName
    csrf: str | None = None
    tenant_name: str = ""

    def can(self, role: RoleName) -> bool:
        """Return True when this caller's role is at least ``role``."""
        return _RANK[self.role] >= _RANK[role]

    @property
    def via_token(self) -> bool:
        """Return True when the caller signed in with an API token (no cookie, no CSRF)."""
        return self.csrf is None


def deps_of(request: Request) -> PortalDeps:
    """The portal's collaborators, kept on the app."""
    deps: PortalDeps = request.app.state.deps
    return deps


def identify(request: Request) -> Principal | None:
    """The caller, from a bearer token or the session cookie, or ``None``."""
    deps = deps_of(request)
    header = request.headers.get("authorization", "")
    if header.lower().startswith("bearer "):
        return _from_token(deps, header[7:].strip())
    session = deps.signer.read(request.cookies.get(SESSION_COOKIE), now=deps.clock.now_utc())
    if session is None:
        return None
    return _load(
        deps, int(session["u"]), int(session["t"]), csrf=str(session["c"]), pin=session.get("p")
    )


def _from_token(deps: PortalDeps, secret: str) -> Principal | None:
    with deps.sessions.begin() as session:
        row = Accounts(session).check_token(secret, now=deps.clock.now_utc())
        if row is None or row.user_id is None:
            return None
        user_id, tenant_id = row.user_id, row.tenant_id
    return _load(deps, user_id, tenant_id, csrf=None)


def password_pin(password_hash: str) -> str:
    """A short fingerprint of the password hash: a new password ends every older session."""
    return hashlib.sha256(password_hash.encode()).hexdigest()[:16]


def _load(
    deps: PortalDeps, user_id: int, tenant_id: int, *, csrf: str | None, pin: object = None
) -> Principal | None:
    with deps.sessions() as session:
        user = session.get(User, user_id)
        if user is None or not user.is_active:
            return None
        if csrf is not None and pin != password_pin(user.password_hash):
            return None
        role = Accounts(session).role_of(tenant_id, user_id)
        tenant = session.get(Tenant, tenant_id)
        if role is None or tenant is None or not tenant.is_active:
            return None
        return Principal(user_id, user.email, tenant_id, RoleName(role), csrf, tenant.name)


def require(role: RoleName) -> Callable[[Request], Awaitable[Principal]]:
    """A dependency admitting callers whose role is at least ``role``.

    Raises (through the app's handlers):
        NotSignedIn: no valid session or token (401, or a redirect to sign-in for pages).
        Forbidden: the role is too low, or a cookie-authenticated change lacks its CSRF token.
    """

    async def dependency(request: Request) -> Principal:
        # The lookups block on the database: keep them off the event loop.
        principal = await run_in_threadpool(identify, request)
        if principal is None:
            raise NotSignedIn
        if not principal.can(role):
            raise Forbidden(f"this needs the {role} role; you are {principal.role}")
        if request.method not in _SAFE_METHODS and not principal.via_token:
            await _check_csrf(request, principal.csrf or "")
        return principal

    dependency.__name__ = f"require_{role}"
    return dependency


async def _check_csrf(request: Request, expected: str) -> None:
    given = request.headers.get("x-csrf-token", "")
    content_type = request.headers.get("content-type", "")
    if not given and content_type.startswith(("application/x-www-form", "multipart/form-data")):
        given = str((await request.form()).get("csrf_token", ""))
    if not given or not hmac.compare_digest(given, expected):
        raise Forbidden("the form's security token is missing or stale; reload the page")


def memberships_of(deps: PortalDeps, user_id: int) -> list[int]:
    """The tenants a user belongs to, oldest membership first."""
    with deps.sessions() as session:
        query = (
            select(Membership.tenant_id)
            .where(Membership.user_id == user_id)
            .order_by(Membership.id)
        )
        return list(session.scalars(query))


def start_session(request: Request, response: Response, user_id: int, tenant_id: int) -> None:
    """Set the session cookie for a user acting in a tenant, with a fresh CSRF token."""
    deps = deps_of(request)
    with deps.sessions() as session:
        user = session.get(User, user_id)
        pin = password_pin(user.password_hash) if user is not None else ""
    expires = deps.clock.now_utc() + deps.session_ttl
    payload = {"u": user_id, "t": tenant_id, "c": secrets.token_urlsafe(24), "p": pin}
    response.set_cookie(
        SESSION_COOKIE,
        deps.signer.sign(payload, expires_at=expires),
        max_age=int(deps.session_ttl.total_seconds()),
        httponly=True,
        samesite="lax",
        secure=is_secure(request),
        path="/",
    )


def end_session(request: Request, response: Response) -> None:
    """Drop the session cookie."""
    response.delete_cookie(SESSION_COOKIE, path="/", secure=is_secure(request), httponly=True)


def is_secure(request: Request) -> bool:
    """Return True when cookies must be ``Secure``: under TLS, or when configured so."""
    return request.url.scheme == "https" or deps_of(request).secure_cookies


Viewer = Annotated[Principal, Depends(require(RoleName.VIEWER))]
Operator = Annotated[Principal, Depends(require(RoleName.OPERATOR))]
Admin = Annotated[Principal, Depends(require(RoleName.ADMIN))]
