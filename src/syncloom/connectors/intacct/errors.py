"""Error translation: httpx failures and Intacct ``<errormessage>`` blocks → :mod:`syncloom.errors`.

One function, :func:`translate`, decides the class; Intacct's own ``errorno`` and texts are
kept in ``vendor_code``/``vendor_message``. Retry decisions are made by class downstream.
"""

from __future__ import annotations

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

SYSTEM = "intacct"
_FIELD = re.compile(
    r"(?:Field requested is not valid: \w+\.|Required field |Invalid field |for field )"
    r"(?P<field>[A-Za-z0-9_.]+)"
)
_NOT_FOUND = ("Cannot update non-existing", "to delete.", "not found", "Cannot find")


@dataclass(frozen=True)
class IntacctFault:
    """One ``<error>`` of an Intacct answer."""

    errorno: str
    description: str = ""
    description2: str = ""
    correction: str = ""

    @property
    def text(self) -> str:
        """All non-empty texts of the error."""
        return " ".join(p for p in (self.description, self.description2, self.correction) if p)


@dataclass(frozen=True)
class FaultReport:
    """A failed answer: at which level (control, authentication, function) and its errors."""

    level: str
    errors: tuple[IntacctFault, ...]
    function: str = ""


def translate(
    *,
    exc: httpx.HTTPError | None = None,
    response: httpx.Response | None = None,
    report: FaultReport | None = None,
    record_key: str | None = None,
) -> RemoteError:
    """Turn one failure into the exception the engine acts on.

    Args:
        exc: a transport failure (timeout, reset, protocol error).
        response: a non-200 HTTP answer from the gateway.
        report: an Intacct error block from a 200 answer.
        record_key: the record concerned, when there is one.

    Returns:
        The :class:`~syncloom.errors.RemoteError` subclass to raise.
    """
    if exc is not None:
        return TransientError(
            f"Intacct unreachable ({type(exc).__name__}); retry later",
            system=SYSTEM,
            vendor_message=type(exc).__name__,
            record_key=record_key,
        )
    if response is not None:
        return _from_status(response, record_key)
    assert report is not None
    return _from_report(report, record_key)


def _from_status(response: httpx.Response, record_key: str | None) -> RemoteError:
    status = response.status_code
    code, text = _gateway_error(response)
    common: dict[str, Any] = {
        "system": SYSTEM,
        "status": status,
        "vendor_code": code,
        "record_key": record_key,
    }
    message = f"Intacct gateway answered HTTP {status}" + (f": {code} {text}" if code else "")
    vendor = text or response.reason_phrase or str(status)
    if status == 429:
        return ThrottledError(
            message, retry_after_s=_retry_after(response), vendor_message=vendor, **common
        )
    if status >= 500:
        return TransientError(message, vendor_message=vendor, **common)
    if status in {400, 401, 403}:
        return AuthError(
            message + "; check the sender and user credentials", vendor_message=vendor, **common
        )
    return PermanentError(message, vendor_message=vendor, **common)


def _from_report(report: FaultReport, record_key: str | None) -> RemoteError:
    first = report.errors[0] if report.errors else IntacctFault("unknown")
    text = " | ".join(e.text for e in report.errors if e.text) or first.errorno
    code = first.errorno
    codes = {e.errorno for e in report.errors}
    common: dict[str, Any] = {
        "system": SYSTEM,
        "vendor_code": code,
        "vendor_message": text,
        "record_key": record_key,
    }
    message = f"Intacct {report.function or report.level} failed: {code}: {text}"
    if "API rate limit exceeded" in text:
        return ThrottledError(message, **common)
    if "Temporarily Off-line" in text or "Please Try Again Later" in text:
        return TransientError(message, **common)
    if report.level in {"control", "authentication"} and code == "XL03000006":
        return AuthError(message, **common)
    if "You do not have permission" in text:
        return AuthError(message, **common)
    if "BL34000061" in codes or "already exists" in text:
        return AlreadyExistsError(message, **common)
    if any(marker in f"{code} {text}" for marker in _NOT_FOUND):
        return NotFoundError(message, **common)
    match = _FIELD.search(text)
    return ValidationError(message, field=match.group("field") if match else None, **common)


def _gateway_error(response: httpx.Response) -> tuple[str | None, str]:
    body = response.text if _is_xml(response) else ""
    code = re.search(r"<errorno>([^<]*)</errorno>", body)
    text = re.search(r"<description>([^<]*)</description>", body)
    return (code.group(1) if code else None, text.group(1) if text else "")


def _is_xml(response: httpx.Response) -> bool:
    kind = response.headers.get("content-type", "").split(";")[0].strip().lower()
    return kind in {"text/xml", "application/xml"}


def _retry_after(response: httpx.Response) -> float | None:
    raw = response.headers.get("retry-after", "")
    try:
        return float(raw)
    except ValueError:
        return None
