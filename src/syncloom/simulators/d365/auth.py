"""Auth: the Entra ID token service and F&O's check of the Bearer token on every call.

Serves OIDC discovery, the v2.0 token endpoint (``scope=https://<env>/.default``) and the
v1.0 endpoint (``resource=https://<env>``), client credentials only. Tokens are JWTs signed
with HS256 by a per-instance key; F&O checks ``aud`` (the environment URL, lower-case, no
slash), ``tid``, ``appid`` (mapped to an F&O user and default company) and ``exp`` against
the simulator clock.
"""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import jwt
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from syncloom.simulators.common.app import SimClock


@dataclass(frozen=True)
class AppUser:
    """An Entra application mapped to an F&O user (System administration > Entra ID apps)."""

    client_id: str
    secret: str
    user_id: str = "Admin"
    default_company: str = "usmf"
    priority: str = "Medium"


@dataclass(frozen=True)
class Caller:
    """Who a valid token speaks for."""

    user: AppUser
    audience: str


class TokenService:
    """Issues and checks tokens for one tenant."""

    def __init__(
        self, tenant: str, users: list[AppUser], clock: SimClock, lifetime_s: int, seed: int
    ) -> None:
        self.tenant = tenant
        self.tenant_id = str(uuid.uuid5(uuid.NAMESPACE_DNS, f"{tenant}.sim"))
        self.users = {u.client_id: u for u in users}
        self.clock = clock
        self.lifetime_s = lifetime_s
        self._key = hashlib.sha256(f"d365-sim-signing-{seed}-{uuid.uuid4()}".encode()).digest()
        self.issued = 0

    # -- Entra endpoints ----------------------------------------------------------------
    def discovery(self, base: str) -> dict[str, object]:
        root = f"{base}/{self.tenant}"
        return {
            "issuer": f"{root}/v2.0",
            "authorization_endpoint": f"{root}/oauth2/v2.0/authorize",
            "token_endpoint": f"{root}/oauth2/v2.0/token",
            "device_authorization_endpoint": f"{root}/oauth2/v2.0/devicecode",
            "jwks_uri": f"{root}/discovery/v2.0/keys",
            "token_endpoint_auth_methods_supported": ["client_secret_post"],
            "tenant_region_scope": "NA",
        }

    def grant(self, form: dict[str, str], base: str, v1: bool) -> tuple[int, dict[str, Any]]:
        """Answer a client-credentials token request (status, JSON body)."""
        user = self.users.get(form.get("client_id", ""))
        if form.get("grant_type") != "client_credentials":
            return 400, self._error(
                "unsupported_grant_type", 70003, "The provided grant type is not supported."
            )
        if user is None:
            return 400, self._error(
                "unauthorized_client",
                700016,
                f"Application with identifier '{form.get('client_id', '')}' was not found in the "
                f"directory '{self.tenant}'.",
            )
        if form.get("client_secret") != user.secret:
            return 401, self._error("invalid_client", 7000215, "Invalid client secret provided.")
        resource = form.get("resource", "") if v1 else form.get("scope", "").split(" ")[0]
        if not v1:
            resource = resource.removesuffix("/.default") if resource.endswith("/.default") else ""
        if resource.rstrip("/").lower() != base.lower():
            param = "resource" if v1 else "scope"
            return 400, self._error(
                "invalid_scope" if not v1 else "invalid_resource",
                70011 if not v1 else 500011,
                f"The provided value for the input parameter '{param}' is not valid.",
            )
        return 200, self._token_body(user, base.lower(), v1)

    def _token_body(self, user: AppUser, audience: str, v1: bool) -> dict[str, Any]:
        now = int(self.clock.now().timestamp())
        claims = {
            "aud": audience,
            "iss": f"https://sts.windows.net/{self.tenant_id}/",
            "iat": now,
            "nbf": now,
            "exp": now + self.lifetime_s,
            "tid": self.tenant_id,
            "oid": str(uuid.uuid5(uuid.NAMESPACE_URL, f"sp:{user.client_id}")),
            "appid": user.client_id,
            "idtyp": "app",
            "ver": "1.0",
            "jti": str(uuid.uuid4()),
        }
        token = jwt.encode(claims, self._key, algorithm="HS256")
        self.issued += 1
        if v1:
            return {
                "token_type": "Bearer",
                "expires_in": str(self.lifetime_s),
                "ext_expires_in": str(self.lifetime_s),
                "expires_on": str(now + self.lifetime_s),
                "not_before": str(now),
                "resource": audience,
                "access_token": token,
            }
        return {
            "token_type": "Bearer",
            "expires_in": self.lifetime_s,
            "ext_expires_in": self.lifetime_s,
            "access_token": token,
        }

    def _error(self, error: str, code: int, text: str) -> dict[str, Any]:
        trace = str(uuid.uuid4())
        stamp = self.clock.now().strftime("%Y-%m-%d %H:%M:%SZ")
        return {
            "error": error,
            "error_description": f"AADSTS{code}: {text} Trace ID: {trace} Timestamp: {stamp}",
            "error_codes": [code],
            "timestamp": stamp,
            "trace_id": trace,
            "correlation_id": str(uuid.uuid4()),
        }

    # -- F&O's check ---------------------------------------------------------------------
    def check(self, authorization: str | None, base: str) -> Caller | Response:
        """The caller of a valid Bearer token, or F&O's 401."""
        if not authorization or not authorization.lower().startswith("bearer "):
            return unauthorized(missing=True)
        try:
            claims = jwt.decode(
                authorization[7:].strip(),
                self._key,
                algorithms=["HS256"],
                options={
                    "verify_exp": False,
                    "verify_aud": False,
                    "verify_nbf": False,
                    "verify_iat": False,
                },
            )
        except jwt.PyJWTError:
            return unauthorized()
        user = self.users.get(str(claims.get("appid")))
        expired = int(claims.get("exp", 0)) <= int(self.clock.now().timestamp())
        if user is None or expired or claims.get("tid") != self.tenant_id:
            return unauthorized()
        if claims.get("aud") != base.lower():
            return unauthorized()
        return Caller(user, base.lower())

    def expires_at(self, now: datetime) -> int:
        return int(now.timestamp()) + self.lifetime_s


def unauthorized(*, missing: bool = False) -> Response:
    """F&O's 401: a terse body, and a Bearer challenge."""
    challenge = (
        "Bearer"
        if missing
        else 'Bearer error="invalid_token", error_description="The access token is invalid or '
        'has expired.", error_category="invalid_token"'
    )
    return JSONResponse(
        {
            "Message": "Authentication failed.",
            "StackTrace": None,
            "ExceptionType": "System.InvalidOperationException",
        },
        401,
        {
            "WWW-Authenticate": challenge,
            "P3P": 'CP="No P3P policy defined. Read the Microsoft privacy statement at '
            'https://go.microsoft.com/fwlink/?LinkId=271135"',
        },
    )


async def form_of(request: Request) -> dict[str, str]:
    """The url-encoded form of a token request, as plain strings."""
    form = await request.form()
    return {k: str(v) for k, v in form.items()}
