"""Values: Creatio's JSON values to Python and back, driven by the entity's field types.

Empty values arrive as the all-zero GUID, ``""`` or ``0001-01-01T00:00:00Z`` (sometimes
``null``); the connector turns empty lookups and dates into ``None`` and back. Date-times
are UTC with up to seven fractional digits; Python keeps six, so the raw text is kept
wherever exactness matters (the change cursor, the record version).
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation

from syncloom.connectors.base import EntitySpec, FieldType, ensure_utc
from syncloom.connectors.creatio.entities import EMPTY_DATE, EMPTY_GUID
from syncloom.errors import MappingError

_INSTANT = re.compile(
    r"^(\d{4}-\d{2}-\d{2})T(\d{2}:\d{2}(?::\d{2})?)(?:\.(\d{1,7}))?(Z|[+-]\d{2}:\d{2})?$"
)


def parse_instant(text: str) -> datetime | None:
    """Creatio date-time text as an aware UTC datetime; the empty date gives ``None``."""
    match = _INSTANT.match(text.strip())
    if not match:
        raise MappingError(f"not a Creatio date-time: {text!r}")
    day, clock, fraction, zone = match.groups()
    micros = (fraction or "").ljust(6, "0")[:6]
    offset = "+00:00" if zone in (None, "Z") else zone
    try:
        moment = datetime.fromisoformat(f"{day}T{clock}.{micros}{offset}")
    except ValueError:  # shaped like a date-time, but no such day or hour (2026-02-30)
        raise MappingError(f"not a Creatio date-time: {text!r}") from None
    if moment.year == 1:
        return None
    return moment.astimezone(UTC)


def format_instant(moment: datetime) -> str:
    """An aware datetime as Creatio literal text: UTC, seven fractional digits, ``Z``."""
    utc = ensure_utc(moment)
    return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond:06d}0Z"


def from_wire(kind: FieldType, value: object) -> object:
    """One JSON value as the Python value of a field of ``kind``."""
    if value is None:
        return None
    if kind in {FieldType.GUID, FieldType.LOOKUP}:
        return None if value == EMPTY_GUID else str(value).lower()
    if kind in {FieldType.DATETIME, FieldType.DATE}:
        moment = parse_instant(str(value))
        if moment is None or kind is FieldType.DATETIME:
            return moment
        return moment.date()
    if kind is FieldType.DECIMAL:
        return _decimal(value)
    if kind is FieldType.INTEGER:
        return int(str(value))
    if kind is FieldType.BOOLEAN:
        return value if isinstance(value, bool) else str(value).lower() == "true"
    return value


def _decimal(value: object) -> Decimal:
    try:
        return Decimal(str(value))
    except InvalidOperation:
        raise MappingError(f"not a number: {value!r}") from None


def to_wire(kind: FieldType | None, value: object) -> object:
    """One Python value as Creatio expects it in a write body."""
    if value is None:
        return _empty(kind)
    if isinstance(value, datetime):
        return format_instant(value)
    if isinstance(value, date):
        return f"{value.isoformat()}T00:00:00Z"
    if isinstance(value, Decimal):
        # Sent as text with IEEE754Compatible=true, so no digit is lost to a float.
        return str(value)
    return value


def _empty(kind: FieldType | None) -> object:
    if kind in {FieldType.GUID, FieldType.LOOKUP}:
        return EMPTY_GUID
    if kind in {FieldType.DATE, FieldType.DATETIME}:
        return EMPTY_DATE
    if kind is FieldType.STRING:
        return ""
    return None


def encode_values(spec: EntitySpec, values: dict[str, object] | object) -> dict[str, object]:
    """A write body: every value in wire form, by the field types of ``spec``."""
    assert isinstance(values, dict)
    body: dict[str, object] = {}
    for name, value in values.items():
        field = spec.field(name)
        body[name] = to_wire(field.type if field else None, value)
    return body
