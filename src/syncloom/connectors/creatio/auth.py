"""Auth: signing in to Creatio with the forms login or OAuth 2.0 client credentials.

Forms: ``POST {root}/ServiceModel/AuthService.svc/Login`` (never under ``/0/``) sets the
``.ASPXAUTH`` ticket and the ``BPMCSRF`` token; every later call carries the cookies and the
token in a ``BPMCSRF`` header. OAuth: ``POST {identity}/connect/token`` with the client
credentials gives a Bearer token with ``expires_in``; no cookies or CSRF are needed then.
Neither class ever puts a secret in a message or a repr.
"""

from __future__ import annotations

import time
from typing import Protocol

import httpx

from syncloom.connectors.creatio.errors import SYSTEM, translate
from syncloom.errors import AuthError

LOGIN_PATH = "/ServiceModel/AuthService.svc/Login"
_TOKEN_MARGIN_S = 60.0


class Authenticator(Protocol):
    """Signs a client in and says which headers prove it."""

    kind: str

    async def login(self, http: httpx.AsyncClient) -> None:
        """Sign in (again); called before the first call and once after a refusal."""
        ...

    def headers(self) -> dict[str, str]:
        """Headers every data call carries."""
        ...

    def fresh(self) -> bool:
        """True while the sign-in can be used without asking again."""
        ...


class FormsAuth:
    """Forms login: cookies kept in the client's jar plus the ``BPMCSRF`` header."""

    kind = "forms"

    def __init__(self, username: str, password: str) -> None:
        self.username = username
        self._password = password
        self._csrf: str | None = None

    def __repr__(self) -> str:
        return f"FormsAuth(username={self.username!r})"

    async def login(self, http: httpx.AsyncClient) -> None:
        """Post the login; keep the cookies in ``http``'s jar and the CSRF token here."""
        http.cookies.clear()
        self._csrf = None
        try:
            response = await http.post(
                LOGIN_PATH,
                json={"UserName": self.username, "UserPassword": self._password},
                headers={"Accept": "application/json"},
            )
        except httpx.HTTPError as exc:
            raise translate(exc) from exc
        if response.status_code != 200:
            raise translate(response)
        body = response.json()
        if body.get("Code") != 0 or ".ASPXAUTH" not in http.cookies:
            message = str(body.get("Message") or "login refused")
            raise AuthError(
                f"Creatio refused the login of {self.username!r}: {message}; check the "
                "user name and password",
                system=SYSTEM,
                status=response.status_code,
                vendor_code=str(body.get("Code")),
                vendor_message=message,
            )
        self._csrf = http.cookies.get("BPMCSRF")

    def headers(self) -> dict[str, str]:
        """The CSRF header Creatio wants on every cookie-authenticated call."""
        return {"BPMCSRF": self._csrf} if self._csrf else {}

    def fresh(self) -> bool:
        """True once logged in; Creatio says when the login has lapsed."""
        return self._csrf is not None


class OAuthAuth:
    """OAuth 2.0 client credentials against Creatio's Identity Service."""

    kind = "oauth"

    def __init__(self, client_id: str, client_secret: str, token_url: str) -> None:
        self.client_id = client_id
        self.token_url = token_url
        self._secret = client_secret
        self._token: str | None = None
        self._expires_at = 0.0

    def __repr__(self) -> str:
        return f"OAuthAuth(client_id={self.client_id!r}, token_url={self.token_url!r})"

    async def login(self, http: httpx.AsyncClient) -> None:
        """Request a new token (there are no refresh tokens)."""
        self._token = None
        form = {
            "grant_type": "client_credentials",
            "client_id": self.client_id,
            "client_secret": self._secret,
        }
        try:
            response = await http.post(self.token_url, data=form)
        except httpx.HTTPError as exc:
            raise translate(exc) from exc
        if response.status_code != 200:
            error = translate(response)
            if response.status_code in {400, 401}:
                raise AuthError(
                    f"Creatio's identity service refused client {self.client_id!r}: "
                    f"{error.vendor_message}; check the client id and secret",
                    system=SYSTEM,
                    status=response.status_code,
                    vendor_message=error.vendor_message,
                ) from None
            raise error
        body = response.json()
        self._token = str(body["access_token"])
        self._expires_at = time.monotonic() + float(body.get("expires_in", 3600))

    def headers(self) -> dict[str, str]:
        """The Bearer header."""
        return {"Authorization": f"Bearer {self._token}"} if self._token else {}

    def fresh(self) -> bool:
        """True while the token has more than a minute left."""
        return self._token is not None and time.monotonic() < self._expires_at - _TOKEN_MARGIN_S


def identity_url(base_url: str) -> str:
    """The cloud convention for the token URL: ``-is`` after the first host label."""
    scheme, _, rest = base_url.partition("://")
    host, _, _path = rest.partition("/")
    if host.endswith(".creatio.com"):
        first, _, domain = host.partition(".")
        host = f"{first}-is.{domain}"
    return f"{scheme}://{host}/connect/token"
