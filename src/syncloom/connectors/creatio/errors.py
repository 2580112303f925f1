"""Errors: Creatio's failures translated into the :mod:`syncloom.errors` tree, in one place.

Creatio answers with an OData envelope whose most useful text is the innermost one
(``innererror.internalexception.message``, then ``innererror.message``, then ``message``), a
Web API routing body (``Message``/``MessageDetail``) for unknown sets, or an empty body. A 500
that carries database or validation text is permanent (a retry hits the same row); a 500 that
says only "An error has occurred.", and 502/503/504, resets and timeouts, are transient.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

import httpx

from syncloom.errors import (
    AlreadyExistsError,
    AuthError,
    NotFoundError,
    PermanentError,
    RemoteError,
    ThrottledError,
    TransientError,
    ValidationError,
)

SYSTEM = "creatio"
_DB_CODE = re.compile(r"^(\d{5}):")
_FIELD_PATTERNS = (
    re.compile(r"property named '([^']+)'"),
    re.compile(r"property '([^']+)' does not exist"),
    re.compile(r'Column "([^"]+)" of object'),
    re.compile(r'Key \("([^"]+)"\)'),
    re.compile(r"Column by path (\S+) not found"),
)


@dataclass(frozen=True)
class SubReply:
    """One ``$batch`` sub-response, shaped like an HTTP answer."""

    status: int
    body: Any
    headers: dict[str, str]


Failure = httpx.Response | httpx.HTTPError | SubReply


def translate(failure: Failure, *, record_key: str | None = None) -> RemoteError:
    """Turn a failed answer or transport error into the matching :class:`RemoteError`.

    Args:
        failure: a non-2xx response, an httpx exception, or a failed ``$batch`` sub-response.
        record_key: the record the call was about, for the error's evidence.

    Returns:
        The error to raise (or to report in an ``OpResult``); Creatio's own text is kept in
        ``vendor_message`` and a database error code, when present, in ``vendor_code``.
    """
    if isinstance(failure, httpx.HTTPError):
        return TransientError(
            f"Creatio could not be reached ({type(failure).__name__}); retry later",
            system=SYSTEM,
            vendor_message=str(failure) or type(failure).__name__,
            record_key=record_key,
        )
    if isinstance(failure, httpx.Response):
        failure = SubReply(failure.status_code, _json(failure.content), dict(failure.headers))
    return _from_reply(failure, record_key)


def _from_reply(reply: SubReply, record_key: str | None) -> RemoteError:
    status, text = reply.status, vendor_text(reply.body)
    code_match = _DB_CODE.match(text or "")
    kwargs: dict[str, Any] = {
        "system": SYSTEM,
        "status": status,
        "vendor_code": code_match.group(1) if code_match else None,
        "vendor_message": text or f"HTTP {status}",
        "record_key": record_key,
    }
    shown = text or f"HTTP {status} without a message"
    if status == 429:
        retry = _retry_after(reply.headers)
        return ThrottledError(f"Creatio asked to slow down: {shown}", retry_after_s=retry, **kwargs)
    if status in {401, 403} or 300 <= status < 400:
        return AuthError(f"Creatio refused the credentials: {shown}; check them", **kwargs)
    if status == 404:
        return NotFoundError(f"Creatio has no such record or entity: {shown}", **kwargs)
    if status >= 500:
        return _server_error(reply, shown, text, kwargs)
    return ValidationError(f"Creatio rejected the request: {shown}", field=_field(text), **kwargs)


def _server_error(reply: SubReply, shown: str, text: str, kwargs: dict[str, Any]) -> RemoteError:
    detailed = reply.status == 500 and text and text != "An error has occurred."
    if not detailed:
        return TransientError(f"Creatio failed ({reply.status}): {shown}; retry later", **kwargs)
    if "duplicate key" in text or "already exists" in text:
        return AlreadyExistsError(
            f"Creatio already has a record with this key: {shown}",
            key=kwargs["record_key"],
            **kwargs,
        )
    if "foreign key" in text or "required" in text or "Column by path" in text:
        return ValidationError(
            f"Creatio rejected the values: {shown}", field=_field(text), **kwargs
        )
    return PermanentError(f"Creatio refused the request: {shown}", **kwargs)


def vendor_text(body: Any) -> str:
    """The most specific message in a Creatio error body ("" when there is none)."""
    if not isinstance(body, dict):
        return body.strip()[:500] if isinstance(body, str) else ""
    error = body.get("error")
    if isinstance(error, dict):
        inner = error.get("innererror") or {}
        internal = inner.get("internalexception") or {} if isinstance(inner, dict) else {}
        for candidate in (internal.get("message"), inner.get("message"), error.get("message")):
            if candidate:
                return str(candidate)
        return ""
    if isinstance(error, str):  # OAuth: {"error": "invalid_client"}
        return error
    return str(body.get("ExceptionMessage") or body.get("Message") or "")


def _field(text: str) -> str | None:
    for pattern in _FIELD_PATTERNS:
        match = pattern.search(text or "")
        if match:
            return match.group(1)
    return None


def _retry_after(headers: dict[str, str]) -> float | None:
    value = {k.lower(): v for k, v in headers.items()}.get("retry-after", "")
    try:
        return float(value)
    except ValueError:
        return None


def _json(content: bytes) -> Any:
    try:
        return json.loads(content)
    except ValueError:
        return content.decode("utf-8", "replace")
