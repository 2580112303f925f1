"""Sign-in pages: sign in (throttled, CSRF by double submit), sign out, switch tenant."""

from __future__ import annotations

import hmac
import secrets
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, Response

from syncloom.portal.auth import (
    Viewer,
    deps_of,
    end_session,
    identify,
    is_secure,
    memberships_of,
    start_session,
)
from syncloom.portal.params import MAX_ID
from syncloom.portal.rendering import redirect, render
from syncloom.store.accounts import Accounts
from syncloom.store.audit import AuditLog

router = APIRouter(include_in_schema=False)
LOGIN_CSRF_COOKIE = "syncloom_login_csrf"


def _safe_next(target: str) -> str:
    # Only paths on this site: "//host" or "http://..." would turn sign-in into an open redirect.
    if target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return "/"


def _login_page(
    request: Request, *, next_url: str, email: str = "", error: str = "", status: int = 200
) -> HTMLResponse:
    token = request.cookies.get(LOGIN_CSRF_COOKIE) or secrets.token_urlsafe(24)
    response = render(
        request,
        "login.html",
        None,
        status_code=status,
        login_csrf=token,
        next=next_url,
        email=email,
        error=error,
    )
    response.set_cookie(
        LOGIN_CSRF_COOKIE, token, httponly=True, samesite="strict", secure=is_secure(request)
    )
    return response


@router.get("/login", response_class=HTMLResponse)
def login_form(request: Request, next: str = "/") -> Response:  # noqa: A002 - the query name
    """The sign-in form."""
    if identify(request) is not None:
        return redirect(request, _safe_next(next))
    return _login_page(request, next_url=_safe_next(next))


@router.post("/login")
def login(
    request: Request,
    email: Annotated[str, Form(max_length=254)] = "",
    password: Annotated[str, Form(max_length=1024)] = "",
    csrf_token: Annotated[str, Form(max_length=100)] = "",
    next: Annotated[str, Form(max_length=500)] = "/",  # noqa: A002 - the form field's name
) -> Response:
    """Check the password, throttled per account and per client address."""
    deps = deps_of(request)
    expected = request.cookies.get(LOGIN_CSRF_COOKIE, "")
    if not expected or not hmac.compare_digest(csrf_token, expected):
        return _login_page(
            request,
            next_url=_safe_next(next),
            email=email,
            status=403,
            error="The form expired; please try again.",
        )
    account = email.strip().lower()
    address = request.client.host if request.client else ""
    if deps.throttle.is_blocked(account) or deps.address_throttle.is_blocked(address):
        return _login_page(
            request,
            next_url=_safe_next(next),
            email=email,
            status=429,
            error="Too many failed sign-ins; wait a few minutes and try again.",
        )
    with deps.sessions.begin() as session:
        user = Accounts(session).authenticate(email, password)
        if user is not None:
            user.last_login_at = deps.clock.now_utc()
        user_id = user.id if user is not None else None
    tenants = memberships_of(deps, user_id) if user_id is not None else []
    if user_id is None or not tenants:
        deps.throttle.fail(account)
        deps.address_throttle.fail(address)
        return _login_page(
            request,
            next_url=_safe_next(next),
            email=email,
            status=401,
            error="Wrong email or password.",
        )
    deps.throttle.succeed(account)
    response = redirect(request, _safe_next(next))
    start_session(request, response, user_id, tenants[0])
    return response


@router.post("/logout")
def logout(request: Request, me: Viewer) -> Response:
    """Sign out."""
    response = redirect(request, "/login")
    end_session(request, response)
    return response


@router.post("/tenant")
def switch_tenant(
    request: Request,
    me: Viewer,
    tenant_id: Annotated[int, Form(ge=1, le=MAX_ID)],
) -> Response:
    """Act in another tenant the user belongs to."""
    deps = deps_of(request)
    if tenant_id not in memberships_of(deps, me.user_id):
        return redirect(request, "/", "You are not a member of that tenant.", "error")
    with deps.sessions.begin() as session:
        AuditLog(session).record(
            tenant_id,
            actor=me.email,
            action="user.switch_tenant",
            target=f"tenant:{tenant_id}",
            user_id=me.user_id,
        )
    response = redirect(request, "/", "Switched tenant.")
    start_session(request, response, me.user_id, tenant_id)
    return response
