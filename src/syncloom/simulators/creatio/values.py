"""Values: how Creatio stores and writes column values on the wire.

Date-times are kept as UTC text with exactly seven fractional digits (``…44.5045174Z``), so
that comparing two stored values as text compares them as instants. Empty values follow
Creatio: the all-zero GUID for a lookup, ``""`` for text, ``0001-01-01T00:00:00Z`` for a date.
"""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from syncloom.simulators.creatio.entities import EMPTY_GUID, Column, Entity

EMPTY_DATE_WIRE = "0001-01-01T00:00:00Z"
EMPTY_DATE = "0001-01-01T00:00:00.0000000Z"
_INSTANT = re.compile(
    r"^(\d{4}-\d{2}-\d{2})(?:T(\d{2}:\d{2})(?::(\d{2})(?:\.(\d{1,7}))?)?)?"
    r"(Z|[+-]\d{2}:\d{2})?$"
)


class BadValueError(ValueError):
    """A written value does not fit its column; the message is Creatio-worded."""


def format_instant(moment: datetime) -> str:
    """A UTC instant as stored: seven fractional digits and ``Z``."""
    moment = moment.astimezone(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond:06d}0Z"


def parse_instant(text: str) -> str | None:
    """Normalise ISO-8601 text (0-7 digits, ``Z`` or an offset) to the stored form, or None."""
    match = _INSTANT.match(text.strip())
    if not match:
        return None
    day, hm, sec, frac, zone = match.groups()
    frac7 = (frac or "").ljust(7, "0")
    base = f"{day}T{hm or '00:00'}:{sec or '00'}"
    try:
        moment = datetime.fromisoformat(f"{base}{_zone(zone)}")
    except ValueError:
        return None
    if moment.year == 1:
        return EMPTY_DATE
    utc = moment.astimezone(UTC)
    return utc.strftime("%Y-%m-%dT%H:%M:%S.") + frac7 + "Z"


def _zone(zone: str | None) -> str:
    return "+00:00" if zone in (None, "Z") else str(zone)


def wire_instant(stored: str) -> str:
    """The stored date-time as sent: the empty date in Creatio's short form."""
    return EMPTY_DATE_WIRE if stored == EMPTY_DATE else stored


_EMPTY = {
    "guid": EMPTY_GUID,
    "lookup": EMPTY_GUID,
    "int": 0,
    "bool": False,
    "decimal": 0,
    "datetime": EMPTY_DATE,
    "date": EMPTY_DATE,
    "stream": None,
}
_TEMPLATES: dict[str, dict[str, Any]] = {}


def empty_value(column: Column) -> Any:
    """The value a column holds when nobody set it."""
    return _EMPTY.get(column.kind, "")


def empty_row(entity: Entity) -> dict[str, Any]:
    """A fresh row of ``entity`` with every (non-stream) column empty."""
    template = _TEMPLATES.get(entity.name)
    if template is None:
        template = {c.storage: empty_value(c) for c in entity.columns if c.kind != "stream"}
        _TEMPLATES[entity.name] = template
    return dict(template)


def coerce(column: Column, value: Any) -> Any:
    """Turn a written JSON (or form) value into the stored value, or raise BadValueError."""
    kind = column.kind
    if value is None:
        return empty_value(column)
    if kind in {"guid", "lookup"}:
        return _guid(column, value)
    if kind in {"datetime", "date"}:
        stored = parse_instant(str(value))
        if stored is None:
            raise BadValueError(f"Cannot convert the literal '{value}' to 'Edm.DateTimeOffset'.")
        return stored
    if kind == "bool":
        return _bool(column, value)
    if kind in {"int", "decimal"}:
        return _number(column, value)
    if kind == "stream":
        raise BadValueError(f"The property '{column.name}' is a stream and cannot be written.")
    return str(value)


def _guid(column: Column, value: Any) -> str:
    try:
        return str(uuid.UUID(str(value)))
    except ValueError:
        raise BadValueError(
            f"Cannot convert the literal '{value}' to the expected type 'Edm.Guid'."
        ) from None


def _bool(column: Column, value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if str(value).lower() in {"true", "false"}:
        return str(value).lower() == "true"
    raise BadValueError(f"Cannot convert the literal '{value}' to the expected type 'Edm.Boolean'.")


def _number(column: Column, value: Any) -> int | float:
    if isinstance(value, bool):
        raise BadValueError(f"Cannot convert the literal '{value}' to a number.")
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        raise BadValueError(
            f"Cannot convert the literal '{value}' to the expected type '{column.edm}'."
        ) from None
    if column.kind == "int":
        return int(number)
    return float(round(number, column.scale))


def wire_value(column: Column, stored: Any) -> Any:
    """A stored value as it goes out in JSON."""
    if column.kind in {"datetime", "date"}:
        return wire_instant(stored)
    return stored
