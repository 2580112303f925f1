"""Replies: Creatio's answer shapes for OData results and failures.

Failures use the OData error envelope Creatio's ASP.NET Web API stack emits, with empty
``code``, ``type`` and ``stacktrace`` members, or the Web API routing body for unknown sets.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

JSON_TYPE = "application/json; odata.metadata=minimal"
ODATA_HEADERS = {"OData-Version": "4.0"}


class ODataError(Exception):
    """A request Creatio refuses: HTTP status plus the envelope's three levels of text."""

    def __init__(
        self,
        status: int,
        message: str,
        inner: str = "",
        internal: str | None = None,
        body: Any = "envelope",
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.inner = inner
        self.internal = internal
        self.body = body

    def payload(self) -> Any:
        """The JSON body (``None`` for an empty body)."""
        if self.body != "envelope":
            return self.body
        return envelope(self.message, self.inner, self.internal)


def envelope(message: str, inner: str = "", internal: str | None = None) -> dict[str, Any]:
    inner_error: dict[str, Any] = {"message": inner, "type": "", "stacktrace": ""}
    if internal is not None:
        inner_error["internalexception"] = {"message": internal, "type": "", "stacktrace": ""}
    return {"error": {"code": "", "message": message, "innererror": inner_error}}


def query_invalid(detail: str) -> ODataError:
    """400 for a query option Creatio's OData layer cannot bind."""
    return ODataError(400, f"The query specified in the URI is not valid. {detail}", detail)


def unknown_property(name: str, type_name: str) -> ODataError:
    return query_invalid(f"Could not find a property named '{name}' on type '{type_name}'.")


def server_error(inner: str, internal: str | None = None) -> ODataError:
    """500 the way Creatio reports database and business-logic failures."""
    return ODataError(500, "An error has occurred.", inner, internal)


def not_found() -> ODataError:
    return ODataError(404, "", body=None)


@dataclass
class Reply:
    """One OData answer before it becomes an HTTP response (or a ``$batch`` part)."""

    status: int
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    raw: bytes | None = None
    content_type: str = JSON_TYPE

    def content(self) -> bytes:
        if self.raw is not None:
            return self.raw
        if self.body is None:
            return b""
        return json.dumps(self.body, separators=(",", ":")).encode()

    @classmethod
    def from_error(cls, error: ODataError) -> Reply:
        payload = error.payload()
        return cls(error.status, payload, content_type="application/json; charset=utf-8")
