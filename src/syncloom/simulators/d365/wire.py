"""Wire: the plain request/response pair the OData service works on, and F&O's error envelope.

The service answers these instead of Starlette objects so that ``$batch`` can run its inner
requests through exactly the same code as top-level ones.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any
from urllib.parse import parse_qsl

from syncloom.simulators.d365.auth import Caller

JSON_TYPE = "application/json; odata.metadata=minimal; odata.streaming=true; charset=utf-8"
WRITE_EXCEPTION = "Microsoft.Dynamics.Platform.Integration.Services.OData.AxODataWriteException"
STACK = "   at Microsoft.Dynamics.Platform.Integration.Services.OData.Update.UpdateProcessor"


@dataclass
class ODataRequest:
    """One OData request, already authenticated."""

    method: str
    path: str  # below /data/, e.g. "CustomersV3(dataAreaId='usmf',CustomerAccount='C1')"
    query: str
    headers: dict[str, str]
    body: bytes
    base: str  # https://host:port
    caller: Caller

    @property
    def params(self) -> dict[str, str]:
        return {k.strip(): v for k, v in parse_qsl(self.query, keep_blank_values=True)}

    def json(self) -> Any:
        return json.loads(self.body or b"null", parse_float=Decimal)


@dataclass
class ODataResponse:
    """A status, headers and a body."""

    status: int
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)

    @classmethod
    def of_json(cls, status: int, doc: object, **headers: str) -> ODataResponse:
        body = json.dumps(doc, default=_number, separators=(",", ":")).encode()
        return cls(status, body, {"Content-Type": JSON_TYPE, **headers})


def _number(value: object) -> object:
    if isinstance(value, Decimal):
        return float(value)
    raise TypeError(f"not JSON: {type(value).__name__}")


def error(status: int, message: str, **headers: str) -> ODataResponse:
    """The ASP.NET OData envelope ``{"error": {"code": "", "message": ...}}``."""
    return ODataResponse.of_json(status, {"error": {"code": "", "message": message}}, **headers)


def write_error(table: str, infolog: str) -> ODataResponse:
    """F&O's write failure: 500, ``AxODataWriteException`` with the X++ Infolog."""
    inner = {
        "message": f"Write failed for table row of type '{table}'. Infolog: {infolog}",
        "type": WRITE_EXCEPTION,
        "stacktrace": f"{STACK}.CreateEntity_Save(...)",
    }
    doc = {"error": {"code": "", "message": "An error has occurred.", "innererror": inner}}
    return ODataResponse.of_json(500, doc)


def activity_id() -> str:
    return str(uuid.uuid4())
