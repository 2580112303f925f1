"""Client: Creatio's OData 4 service over one pooled ``httpx.AsyncClient``.

Signs in lazily, and when a call comes back logged out (401, 403 on a cookie login, a
redirect to the login page, or the login page itself) signs in once more and repeats the call
once. Repeating is safe because a refused call was never executed: Creatio checks the login
before it runs anything. 429 and 5xx are not retried here; the engine's retry policy and
governor own that.
"""

from __future__ import annotations

import asyncio
import json
import socket
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

import httpx

from syncloom.connectors.creatio.auth import Authenticator
from syncloom.connectors.creatio.errors import SYSTEM, translate
from syncloom.connectors.http import DEFAULT_MAX_RESPONSE_BYTES, CappedClient
from syncloom.errors import TransientError

JSON_WRITE = "application/json; charset=utf-8; IEEE754Compatible=true"
_LOGGED_OUT_MARKERS = ("bootstrap.login", "NuiLogin", "/Login/", "Authentication failed.")


class CreatioClient:
    """Wire calls to one Creatio site; ``transport`` lets tests mount an app in-process."""

    def __init__(
        self,
        base_url: str,
        auth: Authenticator,
        *,
        netcore: bool = False,
        timeout_s: float = 30.0,
        transport: httpx.AsyncBaseTransport | None = None,
        max_connections: int = 10,
        max_response_bytes: int = DEFAULT_MAX_RESPONSE_BYTES,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.auth = auth
        self.service = "/odata/" if netcore else "/0/odata/"
        if transport is None:
            # httpx writes a request's headers and body separately; with Nagle on, a small
            # POST/PATCH then waits for the server's delayed ACK (~40 ms) before its body
            # leaves. TCP_NODELAY removes that stall.
            transport = httpx.AsyncHTTPTransport(
                limits=httpx.Limits(max_connections=max_connections),
                socket_options=[(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)],
            )
        self.http = CappedClient(
            system=SYSTEM,
            max_response_bytes=max_response_bytes,
            base_url=self.base_url,
            transport=transport,
            timeout=httpx.Timeout(timeout_s, connect=min(timeout_s, 10.0)),
            headers={"Accept": "application/json", "ForceUseSession": "true"},
            follow_redirects=False,
        )
        self._login_lock = asyncio.Lock()
        self._generation = 0
        self.logins = 0

    async def aclose(self) -> None:
        """Close the pooled connections."""
        await self.http.aclose()

    async def _ensure_login(self, seen_generation: int | None = None) -> None:
        async with self._login_lock:
            if seen_generation is None:
                if self.auth.fresh():
                    return
            elif seen_generation != self._generation:
                return  # another task signed in again while we waited: reuse its login
            await self.auth.login(self.http)
            self._generation += 1
            self.logins += 1

    async def request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, str | int] | None = None,
        body: Any = None,
        content: bytes | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> httpx.Response:
        """Send one call below the OData service root, signing in again once if needed.

        Raises:
            RemoteError: a transport failure, translated (HTTP statuses are the caller's).
        """
        if not self.auth.fresh():
            await self._ensure_login()
        extra = dict(headers or {})
        if body is not None:
            content = json.dumps(body, default=_json_default).encode()
            extra.setdefault("Content-Type", JSON_WRITE)
        generation = self._generation
        response = await self._send(method, path, params, content, extra)
        if self._logged_out(response):
            await self._ensure_login(generation)
            response = await self._send(method, path, params, content, extra)
        return response

    async def _send(
        self,
        method: str,
        path: str,
        params: Mapping[str, str | int] | None,
        content: bytes | None,
        headers: dict[str, str],
    ) -> httpx.Response:
        try:
            return await self.http.request(
                method,
                self.service + path,
                params=params,
                content=content,
                headers={**headers, **self.auth.headers()},
            )
        except httpx.HTTPError as exc:
            raise translate(exc) from exc

    def _logged_out(self, response: httpx.Response) -> bool:
        status = response.status_code
        if status == 401 or (status == 403 and self.auth.kind == "forms"):
            return True
        if status in {301, 302, 303, 307}:
            return "/Login/" in response.headers.get("location", "")
        if status == 200 and "text/html" in response.headers.get("content-type", ""):
            return any(marker in response.text for marker in _LOGGED_OUT_MARKERS)
        return False


def _json_default(value: object) -> object:
    if isinstance(value, Decimal):
        return str(value)
    raise TypeError(f"cannot send {type(value).__name__} to Creatio")


def parse_json(response: httpx.Response) -> Any:
    """A response body with numbers as Decimal, so money keeps its digits.

    Raises:
        TransientError: the body is not JSON (cut off, not UTF-8, an HTML error page,
            nested past the parser's depth): a proxy or an overloaded server, retry later.
    """
    try:
        return json.loads(response.content, parse_float=Decimal)
    except (ValueError, RecursionError) as exc:
        raise TransientError(
            f"Creatio sent an unreadable answer ({type(exc).__name__}); retry later",
            system="creatio",
            status=response.status_code,
        ) from None
