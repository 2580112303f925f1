"""Values: F&O JSON values ↔ Python values, by the field types the entity declares.

Decimals become ``Decimal``, ``NoYes`` enums ``bool``, date-times aware UTC ``datetime``,
calendar dates (F&O keeps them as DateTimeOffset) ``date``; F&O's empty date
(``1900-01-01T00:00:00Z``) reads as ``None``. Unknown fields pass through unchanged.
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from syncloom.connectors.base import FieldType
from syncloom.connectors.d365.entities import D365Entity
from syncloom.errors import TransientError

EMPTY_DATE = "1900-01-01T00:00:00Z"


def parse_instant(text: str) -> datetime:
    """An OData DateTimeOffset (``Z`` or offset, up to 7 fractional digits) in UTC."""
    value = text.strip().replace("Z", "+00:00")
    head, dot, rest = value.partition(".")
    if dot:
        digits = "".join(c for c in rest if c.isdigit())
        zone = rest[len(digits) :]
        value = f"{head}.{digits[:6].ljust(6, '0')}{zone}"
    moment = datetime.fromisoformat(value)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def format_instant(moment: datetime) -> str:
    """UTC ISO-8601 with ``Z``, as F&O expects in bodies and filters."""
    if moment.tzinfo is None:
        raise ValueError("naive datetime: attach a time zone")
    text = moment.astimezone(UTC).replace(tzinfo=None).isoformat()
    return text + "Z"


def from_wire(kind: FieldType, value: Any) -> Any:
    """One JSON value as its Python value."""
    if value is None:
        return None
    if kind is FieldType.DECIMAL:
        return Decimal(str(value))
    if kind is FieldType.BOOLEAN:
        return value == "Yes" if isinstance(value, str) else bool(value)
    if kind in {FieldType.DATETIME, FieldType.DATE} and isinstance(value, str):
        if not value or value.startswith("1900-01-01"):
            return None
        moment = parse_instant(value)
        return moment.date() if kind is FieldType.DATE else moment
    return value


def to_wire(kind: FieldType, value: Any) -> Any:
    """One Python value as its JSON value; unconvertible values go as they are."""
    if kind is FieldType.BOOLEAN and isinstance(value, bool):
        return "Yes" if value else "No"
    if isinstance(value, datetime):
        return format_instant(value)
    if isinstance(value, date):
        return f"{value.isoformat()}T00:00:00Z"
    if value is None and kind in {FieldType.DATE, FieldType.DATETIME}:
        return EMPTY_DATE
    return value


def row_values(entity: D365Entity, row: dict[str, Any]) -> dict[str, Any]:
    """A JSON row's properties as Python values (annotations dropped)."""
    out = {}
    for name, value in row.items():
        if name.startswith("@") or "@odata." in name:
            continue
        spec = entity.spec.field(name)
        out[name] = from_wire(spec.type, value) if spec else value
    return out


def body_of(entity: D365Entity, values: dict[str, Any]) -> dict[str, Any]:
    """Python values as a JSON body, typed by the entity's fields."""
    out = {}
    for name, value in values.items():
        spec = entity.spec.field(name)
        out[name] = to_wire(spec.type if spec else FieldType.STRING, value)
    return out


class _Encoder(json.JSONEncoder):
    def default(self, o: object) -> object:
        if isinstance(o, Decimal):
            return float(o) if Decimal(repr(float(o))) == o else str(o)
        if isinstance(o, datetime | date):
            return o.isoformat()
        return super().default(o)


def dumps(doc: object) -> bytes:
    """JSON bytes with Decimals as numbers."""
    return json.dumps(doc, cls=_Encoder, separators=(",", ":")).encode()


def loads(data: bytes) -> Any:
    """JSON with numbers read as Decimal (money never passes through float).

    Raises:
        TransientError: the body is not JSON (cut off, not UTF-8, an HTML error page,
            nested past the parser's depth): a proxy or an overloaded server, retry later.
    """
    try:
        return json.loads(data, parse_float=Decimal)
    except (ValueError, RecursionError) as exc:
        raise TransientError(
            f"F&O sent an unreadable answer ({type(exc).__name__}); retry later", system="d365"
        ) from None
