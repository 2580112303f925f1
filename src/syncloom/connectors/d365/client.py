"""Client: authenticated HTTP calls to one F&O environment's ``/data/`` endpoint.

Every call carries a Bearer token and an ``x-ms-client-request-id``; a 401 drops the cached
token and the call is made once more with a fresh one. Non-success answers and transport
failures are translated by :func:`~syncloom.connectors.d365.errors.translate`; nothing is
retried here beyond that one re-login (the engine's RetryPolicy owns retries).
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Mapping
from typing import Any

import httpx

from syncloom.connectors.d365 import batches, values
from syncloom.connectors.d365.auth import TokenProvider
from syncloom.connectors.d365.errors import Answer, translate
from syncloom.errors import TransientError

log = logging.getLogger(__name__)
HEADERS = {"Accept": "application/json", "OData-Version": "4.0", "OData-MaxVersion": "4.0"}


class ODataClient:
    """Wire calls with token handling."""

    def __init__(self, base_url: str, tokens: TokenProvider, http: httpx.AsyncClient) -> None:
        self.base_url = base_url.rstrip("/")
        self.data_url = f"{self.base_url}/data/"
        self.tokens = tokens
        self.http = http

    def url(self, path: str) -> str:
        """An absolute URL for a path below ``/data/`` (absolute URLs pass through)."""
        return (
            path
            if path.startswith("https://") or path.startswith("http://")
            else self.data_url + path
        )

    async def send(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, str] | None = None,
        body: bytes | None = None,
        headers: Mapping[str, str] | None = None,
        record_key: str | None = None,
    ) -> httpx.Response:
        """Send one request; return the 2xx response or raise the translated error."""
        extra = dict(headers or {})
        if body is not None and "Content-Type" not in extra:
            extra["Content-Type"] = "application/json"
        for attempt in range(2):
            token = await self.tokens.token()
            request_id = str(uuid.uuid4())
            try:
                response = await self.http.request(
                    method,
                    self.url(path),
                    params=params,
                    content=body,
                    headers={**HEADERS, **extra, "Authorization": f"Bearer {token}",
                             "x-ms-client-request-id": request_id},
                )  # fmt: skip
            except httpx.HTTPError as exc:
                raise translate(exc=exc, record_key=record_key) from exc
            if response.status_code == 401 and attempt == 0:
                log.info("d365: 401 on %s %s; renewing the token once", method, path.split("?")[0])
                await self.tokens.invalidate()
                continue
            if response.status_code >= 400:
                log.debug("d365: %s %s -> %s (activity %s, request %s)", method,
                          path.split("?")[0], response.status_code,
                          response.headers.get("ms-dyn-aid"), request_id)  # fmt: skip
                raise translate(answer=Answer.of(response), record_key=record_key)
            return response
        raise AssertionError("unreachable")  # pragma: no cover

    async def get_json(self, path: str, params: Mapping[str, str] | None = None,
                       record_key: str | None = None) -> Any:  # fmt: skip
        """GET and decode a JSON answer (numbers as Decimal)."""
        response = await self.send("GET", path, params=params, record_key=record_key)
        doc = values.loads(response.content)
        rows = doc.get("value", []) if isinstance(doc, dict) else None
        if not isinstance(rows, list) or not all(isinstance(row, dict) for row in rows):
            raise TransientError(
                f"F&O answered {path} in an unexpected shape; retry later",
                system="d365",
                status=response.status_code,
            )
        return doc

    async def batch(self, requests: list[batches.Request]) -> list[tuple[str | None, Answer]]:
        """Send one ``$batch``; the answers of its operations in order."""
        body, content_type = batches.build(requests)
        response = await self.send(
            "POST", "$batch", body=body, headers={"Content-Type": content_type}
        )
        return batches.parse(response.content, response.headers.get("content-type", ""))
