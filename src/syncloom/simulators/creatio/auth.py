"""Auth: Creatio's forms login (cookies plus CSRF) and Identity Service client credentials.

A forms login answers with the ``.ASPXAUTH`` ticket, the ``BPMCSRF`` token (not HttpOnly, to
be echoed in a header), ``BPMLOADER``, ``UserName`` and ``UserType`` cookies. Logins expire
after a sliding idle time; Bearer tokens after ``expires_in``. Cookie-authenticated writes
need a ``BPMCSRF`` header equal to the cookie (403 otherwise); Bearer calls need nothing more.
"""

from __future__ import annotations

import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import quote

from starlette.requests import Request

from syncloom.simulators.common.app import SimClock

SUPERVISOR_CONTACT = "410006e1-ca4e-4502-a9ec-e54d922d2c00"
INTEGRATION_CONTACT = "a1b2c3d4-0000-4000-8000-5c1100a0e001"
WRITE_METHODS = {"POST", "PATCH", "PUT", "DELETE", "MERGE"}


@dataclass
class Login:
    """One forms-login context, keyed by its ``.ASPXAUTH`` ticket."""

    user: str
    contact_id: str
    csrf: str
    last_seen: datetime


@dataclass
class Token:
    """One Bearer token issued to an OAuth client."""

    client_id: str
    contact_id: str
    expires_at: datetime


@dataclass(frozen=True)
class Caller:
    """Who a request runs as; ``via`` is ``cookie`` or ``bearer``."""

    user: str
    contact_id: str
    via: str


@dataclass(frozen=True)
class Refusal:
    """Why a request was refused: 401 (logged out) or 403 (CSRF or forced)."""

    status: int
    reason: str


class Gatekeeper:
    """Issues and checks logins and tokens against the simulator clock."""

    def __init__(
        self,
        clock: SimClock,
        *,
        users: dict[str, tuple[str, str]],
        clients: dict[str, tuple[str, str]],
        idle_s: float,
        token_lifetime_s: int,
        csrf_on_get: bool,
    ) -> None:
        self.clock = clock
        self.users = users
        self.clients = clients
        self.idle = timedelta(seconds=idle_s)
        self.token_lifetime_s = token_lifetime_s
        self.csrf_on_get = csrf_on_get
        self.logins: dict[str, Login] = {}
        self.tokens: dict[str, Token] = {}
        self.deny_next = 0
        self.counts = {"logins": 0, "failed_logins": 0, "tokens": 0, "refused": 0}

    def clear(self) -> None:
        self.logins.clear()
        self.tokens.clear()
        self.deny_next = 0

    def login(self, user: str, password: str) -> tuple[str, Login] | None:
        known = self.users.get(user)
        if known is None or not hmac.compare_digest(known[0], password):
            self.counts["failed_logins"] += 1
            return None
        ticket = secrets.token_hex(48).upper()
        login = Login(user, known[1], secrets.token_urlsafe(16), self.clock.now())
        self.logins[ticket] = login
        self.counts["logins"] += 1
        return ticket, login

    def issue_token(self, client_id: str, secret: str) -> tuple[str, Token] | None:
        known = self.clients.get(client_id)
        if known is None or not hmac.compare_digest(known[0], secret):
            return None
        token = Token(
            client_id,
            known[1],
            self.clock.now() + timedelta(seconds=self.token_lifetime_s),
        )
        value = secrets.token_urlsafe(32)
        self.tokens[value] = token
        self.counts["tokens"] += 1
        return value, token

    def check(self, request: Request) -> Caller | Refusal:
        """Authenticate a data call; cookie calls also pass the CSRF check."""
        auth = request.headers.get("authorization", "")
        if auth.lower().startswith("bearer "):
            return self._check_bearer(auth[7:].strip())
        return self._check_cookie(request)

    def _check_bearer(self, value: str) -> Caller | Refusal:
        token = self.tokens.get(value)
        if token is None or self.clock.now() >= token.expires_at:
            self.tokens.pop(value, None)
            return self._refuse(401, "invalid or expired token")
        return Caller(token.client_id, token.contact_id, "bearer")

    def _check_cookie(self, request: Request) -> Caller | Refusal:
        ticket = request.cookies.get(".ASPXAUTH", "")
        login = self.logins.get(ticket)
        now = self.clock.now()
        if login is None or now - login.last_seen > self.idle:
            self.logins.pop(ticket, None)
            return self._refuse(401, "no valid login")
        if self.deny_next > 0:
            self.deny_next -= 1
            return self._refuse(403, "forced")
        needs_csrf = request.method in WRITE_METHODS or self.csrf_on_get
        header = request.headers.get("bpmcsrf", "")
        if needs_csrf and not hmac.compare_digest(header, login.csrf):
            return self._refuse(403, "bad csrf")
        login.last_seen = now
        return Caller(login.user, login.contact_id, "cookie")

    def _refuse(self, status: int, reason: str) -> Refusal:
        self.counts["refused"] += 1
        return Refusal(status, reason)


def user_name_cookie(user: str) -> str:
    """Creatio's ``UserName`` cookie: the name's character codes joined by ``|``."""
    return "|".join(str(ord(c)) for c in user)


def login_redirect(path: str, *, netcore: bool) -> str:
    page = "/Login/Login.html" if netcore else "/Login/NuiLogin.aspx"
    return f"{page}?ReturnUrl={quote(path, safe='')}"


LOGIN_PAGE = (
    "<!DOCTYPE html><html><head><title>Creatio</title></head>"
    '<body data-loadbootstrap="bootstrap.login"><form id="login" action="/Login/NuiLogin.aspx">'
    "</form></body></html>"
)
