"""Auth: Entra ID client-credential tokens through msal, renewed before they expire.

msal is synchronous and contacts the authority in its constructor, so both the app and every
token call run in a worker thread. msal caches the token and treats one with under five
minutes left as expired, which renews it early; after a 401 the connector drops the cached
token (:meth:`TokenProvider.invalidate`) and asks again once. The secret never leaves this
object: not in logs, reprs or exception messages.
"""

from __future__ import annotations

import asyncio
import threading
import time
from typing import Any

import msal
import requests
from msal.exceptions import MsalServiceError

from syncloom.connectors.http import DEFAULT_MAX_RESPONSE_BYTES, ResponseTooLargeError
from syncloom.errors import AuthError, TransientError

SYSTEM = "d365"
RENEW_BEFORE_S = 300  # msal's own margin: a token with under 5 minutes left is renewed
_TRANSIENT = {"temporarily_unavailable", "server_error", "request_timeout"}


class _PinnedSession:
    """A requests session that always verifies with the configured CA and caps every answer.

    requests lets ``REQUESTS_CA_BUNDLE`` override a session's own ``verify``; passing
    ``verify`` on each call keeps a configured CA file in charge. msal would read a token
    answer of any size into memory: the body is streamed here and refused past
    ``max_bytes``, as every other vendor answer is (:mod:`syncloom.connectors.http`).
    """

    def __init__(self, verify: str | bool, max_bytes: int = DEFAULT_MAX_RESPONSE_BYTES) -> None:
        self._session = requests.Session()
        self._verify = verify
        self._max_bytes = max_bytes
        self.last_status: int | None = None

    def get(self, url: str, **kwargs: Any) -> requests.Response:
        """GET with the pinned CA."""
        return self._capped(url, self._session.get(url, **self._options(kwargs)))

    def post(self, url: str, **kwargs: Any) -> requests.Response:
        """POST with the pinned CA."""
        return self._capped(url, self._session.post(url, **self._options(kwargs)))

    def _options(self, kwargs: dict[str, Any]) -> dict[str, Any]:
        return {**kwargs, "verify": self._verify, "timeout": 30, "stream": True}

    def _capped(self, url: str, response: requests.Response) -> requests.Response:
        self.last_status = response.status_code
        declared = response.headers.get("Content-Length", "")
        if declared.isdigit() and int(declared) > self._max_bytes:
            response.close()
            raise ResponseTooLargeError(
                system=SYSTEM, limit_bytes=self._max_bytes, url=url, declared_bytes=int(declared)
            )
        body = bytearray()
        for chunk in response.iter_content(64 * 1024):  # decoded, so a bomb counts in full
            body += chunk
            if len(body) > self._max_bytes:
                response.close()
                raise ResponseTooLargeError(system=SYSTEM, limit_bytes=self._max_bytes, url=url)
        # What requests itself does once a streamed body is read: msal reads .text and .json().
        response._content = bytes(body)
        return response

    def close(self) -> None:
        """Close the pooled connections."""
        self._session.close()


class TokenProvider:
    """Acquires Bearer tokens for one F&O environment."""

    def __init__(
        self,
        *,
        authority: str,
        client_id: str,
        client_secret: str,
        resource: str,
        verify: str | bool = True,
        max_response_bytes: int = DEFAULT_MAX_RESPONSE_BYTES,
    ) -> None:
        self.authority = authority.rstrip("/")
        self._max_bytes = max_response_bytes
        self.client_id = client_id
        self.resource = resource.rstrip("/").lower()
        self._secret = client_secret
        self._verify = verify
        self._app: msal.ConfidentialClientApplication | None = None
        self._session: _PinnedSession | None = None
        self._cached: tuple[str, float] | None = None
        self._lock = threading.Lock()
        self.acquired = 0

    def __repr__(self) -> str:
        return f"TokenProvider(authority={self.authority!r}, client_id={self.client_id!r})"

    @property
    def scope(self) -> str:
        """The ``.default`` scope of the environment."""
        return f"{self.resource}/.default"

    def _application(self) -> msal.ConfidentialClientApplication:
        with self._lock:
            if self._app is None:
                session = self._session = _PinnedSession(self._verify, self._max_bytes)
                self._app = msal.ConfidentialClientApplication(
                    self.client_id,
                    client_credential=self._secret,
                    authority=self.authority,
                    instance_discovery=False,
                    http_client=session,
                )
            return self._app

    def _acquire(self) -> dict[str, Any]:
        try:
            result = self._application().acquire_token_for_client(scopes=[self.scope])
        except requests.RequestException as exc:
            raise TransientError(
                f"Entra ID unreachable ({type(exc).__name__}); retry later",
                system=SYSTEM,
                vendor_message=type(exc).__name__,
            ) from None
        except (ValueError, MsalServiceError) as exc:  # msal: an answer it could not use
            raise self._unusable_answer(exc) from None
        return dict(result or {})

    def _unusable_answer(self, exc: Exception) -> TransientError | AuthError:
        # msal raises ValueError or MsalServiceError both for an unknown tenant (400/404)
        # and for a throttled, failing or cut-off answer (429, 5xx, 200 with half a body):
        # only the first is a configuration problem; the others pass.
        status = self._session.last_status if self._session else None
        if status is not None and (status in {200, 408, 429} or status >= 500):
            return TransientError(
                f"Entra ID answered {status} without a usable body; retry later",
                system=SYSTEM,
                status=status,
            )
        return AuthError(f"Entra ID authority {self.authority} is not usable: {exc}", system=SYSTEM)

    async def token(self) -> str:
        """A valid access token (from msal's cache when it has one).

        Raises:
            AuthError: when Entra ID refuses the client or the scope.
            TransientError: when Entra ID is unreachable or failing.
        """
        now = time.monotonic()
        if self._cached is not None and now < self._cached[1]:
            return self._cached[0]  # skip the thread hop while msal's copy is surely valid
        result = await asyncio.to_thread(self._acquire)
        token = result.get("access_token")
        if token:
            if result.get("token_source") == "identity_provider":
                self.acquired += 1
            lifetime = float(result.get("expires_in") or 0)
            self._cached = (str(token), now + lifetime - RENEW_BEFORE_S)
            return str(token)
        # A throttled or failing token endpoint answers with some JSON that msal returns as an
        # error result rather than raising: its status, not its body, says it will pass.
        status = self._session.last_status if self._session else None
        if not isinstance(result.get("error"), str):
            # msal keeps a non-OAuth error in its telemetry and fails every later call of this
            # application on it: the next try starts from a fresh one.
            self._forget_application()
        error = str(result.get("error") or "unknown_error")
        text = str(result.get("error_description") or error).split(" Trace ID:")[0]
        passing = status is not None and (status in {408, 429} or status >= 500)
        cls = TransientError if error in _TRANSIENT or passing else AuthError
        raise cls(f"Entra ID refused the token request: {text}", system=SYSTEM,
                  vendor_code=error, vendor_message=text)  # fmt: skip

    def _forget_application(self) -> None:
        with self._lock:
            session, self._session, self._app = self._session, None, None
        if session is not None:
            session.close()

    def close(self) -> None:
        """Close msal's HTTP session."""
        if self._session is not None:
            self._session.close()

    async def invalidate(self) -> None:
        """Forget the cached token (after F&O answered 401)."""
        self._cached = None
        if self._app is not None:
            await asyncio.to_thread(self._app.remove_tokens_for_client)
