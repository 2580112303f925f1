"""Error translation: httpx failures and F&O answers → :mod:`syncloom.errors`, in one function.

F&O puts the useful text (the X++ Infolog) in ``error.innererror.message`` and the exception
class (``…AxODataWriteException``) in ``innererror.type``; both are kept as
``vendor_message`` and ``vendor_code``. Write failures arrive as 500s, so a 500 that carries
an ``AxODataWriteException`` is a permanent data problem, while a bare 500 is transient.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass

import httpx

from syncloom.errors import (
    AlreadyExistsError,
    AuthError,
    NotFoundError,
    RemoteError,
    StaleVersionError,
    ThrottledError,
    TransientError,
    ValidationError,
)

SYSTEM = "d365"
WRITE_EXCEPTION = "AxODataWriteException"
_FIELD = re.compile(
    r"validateField failed on field '(?:\w+\.)?(?P<a>\w+)'|property (?:named )?'(?P<b>\w+)'"
    r"|Field '(?P<c>\w+)' must be filled in|in field '(?P<d>\w+)'"
)


@dataclass(frozen=True)
class Answer:
    """A non-success HTTP answer: status, headers and body (also one part of a batch)."""

    status: int
    headers: Mapping[str, str]
    body: bytes

    @classmethod
    def of(cls, response: httpx.Response) -> Answer:
        """The answer of an httpx response."""
        return cls(response.status_code, response.headers, response.content)


def vendor_fault(body: bytes) -> tuple[str | None, str]:
    """(code, message) of F&O's error envelope; the raw text when it is not one."""
    try:
        doc = json.loads(body or b"{}")
    except (ValueError, UnicodeDecodeError):
        return None, body[:500].decode("utf-8", "replace")
    if not isinstance(doc, dict):
        return None, str(doc)[:500]
    if isinstance(doc.get("error"), dict):
        err = doc["error"]
        inner = err.get("innererror") if isinstance(err.get("innererror"), dict) else {}
        code = str(inner.get("type") or err.get("code") or "") or None
        return code, str(inner.get("message") or err.get("message") or "")
    return doc.get("ExceptionType"), str(doc.get("Message") or doc)


def _retry_after(headers: Mapping[str, str]) -> float | None:
    text = headers.get("retry-after") or headers.get("Retry-After")
    try:
        return float(text) if text is not None else None
    except ValueError:
        return None


@dataclass(frozen=True)
class _Evidence:
    status: int
    code: str | None
    message: str
    record_key: str | None

    def make(self, cls: type[RemoteError], text: str) -> RemoteError:
        return cls(
            text,
            system=SYSTEM,
            status=self.status,
            vendor_code=self.code,
            vendor_message=self.message,
            record_key=self.record_key,
        )


def translate(
    *,
    exc: httpx.HTTPError | None = None,
    answer: Answer | None = None,
    record_key: str | None = None,
) -> RemoteError:
    """Turn one failure into the exception the engine acts on.

    Args:
        exc: a transport failure (timeout, reset, protocol error).
        answer: a non-success answer, top-level or from one batch part.
        record_key: the record concerned, when there is one.

    Returns:
        The :class:`~syncloom.errors.RemoteError` subclass to raise or report.
    """
    if exc is not None or answer is None:
        name = type(exc).__name__ if exc is not None else "no answer"
        return TransientError(
            f"D365 unreachable ({name}); retry later",
            system=SYSTEM,
            vendor_message=name,
            record_key=record_key,
        )
    code, message = vendor_fault(answer.body)
    evidence = _Evidence(answer.status, code, message, record_key)
    if answer.status in {429, 412, 401, 403, 404}:
        return _by_status(answer, evidence)
    if (code and WRITE_EXCEPTION in code) or answer.status < 500:
        return _data_error(evidence)
    error = evidence.make(TransientError, f"D365 failed ({answer.status}); retry later: {message}")
    error.retry_after_s = _retry_after(answer.headers)  # type: ignore[attr-defined]
    return error


def _by_status(answer: Answer, evidence: _Evidence) -> RemoteError:
    status, message = answer.status, evidence.message
    if status == 429:
        wait = _retry_after(answer.headers)
        error = evidence.make(
            ThrottledError, f"D365 throttled the request; retry after {wait} s: {message}"
        )
        error.retry_after_s = wait  # type: ignore[attr-defined]
        return error
    if status == 412:
        return evidence.make(StaleVersionError, f"the record changed since it was read: {message}")
    if status == 404:
        return evidence.make(NotFoundError, f"not found in D365: {message}")
    return evidence.make(
        AuthError,
        f"D365 refused the token ({status}); check the app registration, its F&O user "
        f"mapping and the environment URL: {message}",
    )


def _data_error(evidence: _Evidence) -> RemoteError:
    message = evidence.message
    if "already exists" in message:
        return evidence.make(AlreadyExistsError, f"D365 says the record already exists: {message}")
    match = _FIELD.search(message)
    field = next((g for g in match.groups() if g), None) if match else None
    error = evidence.make(ValidationError, f"D365 rejected the values: {message}")
    error.field = field  # type: ignore[attr-defined]
    return error
