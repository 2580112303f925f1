"""Rows: how one entity row is keyed, versioned, validated and written as OData JSON.

A row is a dict of property values in JSON-ready form (strings, numbers, ISO-8601 UTC text)
plus two hidden members: ``_rv`` (RecVersion, changed by every update) and ``_rid`` (RecId).
The ETag is ``W/"base64('<RecVersion>,<RecId>')"`` as F&O writes it.
"""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from syncloom.simulators.d365.entities import ENUMS, EntitySet, Prop
from syncloom.simulators.d365.queries import parse_instant

Row = dict[str, Any]


class BadValue(ValueError):
    """A value of the wrong type for its property (400 in F&O)."""


def store_key(entity: EntitySet, key: dict[str, object]) -> str:
    """The SimStore key of a row: its key values, ``dataAreaId`` lower-cased."""
    parts = []
    for name in entity.keys:
        value = key[name]
        if name == "dataAreaId" and isinstance(value, str):
            value = value.lower()
        if isinstance(value, Decimal | float | int):
            value = str(Decimal(str(value)).normalize())
        parts.append(value)
    return json.dumps(parts)


def row_key(entity: EntitySet, row: Row) -> str:
    return store_key(entity, {k: row[k] for k in entity.keys})


def etag(row: Row) -> str:
    raw = f"'{row.get('_rv', 1)},{row.get('_rid', 0)}'".encode()
    return 'W/"' + base64.b64encode(raw).decode() + '"'


def format_instant(moment: datetime) -> str:
    """UTC ISO-8601 with ``Z`` (seconds, plus microseconds when present)."""
    text = moment.astimezone(UTC).isoformat().replace("+00:00", "Z")
    return text


def key_literal(value: object) -> str:
    if isinstance(value, str):
        return "'" + value.replace("'", "''") + "'"
    return str(value)


def key_segment(entity: EntitySet, row: Row) -> str:
    inner = ",".join(f"{k}={key_literal(row[k])}" for k in entity.keys)
    return f"{entity.name}({inner})"


def public(entity: EntitySet, row: Row, select: list[str] | None = None) -> Row:
    """The row as OData JSON members, ``@odata.etag`` first."""
    out: Row = {"@odata.etag": etag(row)}
    names = select if select and "*" not in select else [p.name for p in entity.props]
    for name in names:
        out[name] = row.get(name)
    return out


def convert(prop: Prop, value: object, *, strict_nulls: bool) -> object:
    """Check and normalise one incoming value.

    Raises:
        BadValue: when the value does not fit the property's type.
    """
    if value is None:
        if strict_nulls and prop.type != "Edm.String":
            raise BadValue(f"A null value was found for the property named '{prop.name}'.")
        return prop.default()
    if prop.enum:
        if value not in ENUMS[prop.enum]:
            raise BadValue(
                f"The string '{value}' is not a valid enumeration type constant for '{prop.type}'."
            )
        return value
    return _convert_scalar(prop, value)


_ACCEPTS: dict[str, tuple[type, ...]] = {
    "Edm.String": (str,),
    "Edm.Guid": (str,),
    "Edm.Decimal": (int, float, Decimal, str),
    "Edm.Int32": (int,),
    "Edm.Int64": (int,),
    "Edm.DateTimeOffset": (str,),
}


def _convert_scalar(prop: Prop, value: object) -> object:
    kind = prop.type
    if isinstance(value, bool) or not isinstance(value, _ACCEPTS.get(kind, (object,))):
        raise BadValue(_cannot(value, kind))
    try:
        if kind == "Edm.Decimal":
            return _number(Decimal(str(value)))
        if kind == "Edm.DateTimeOffset":
            return _instant(str(value))
    except (InvalidOperation, ValueError):
        raise BadValue(_cannot(value, kind)) from None
    return value


def _number(number: Decimal) -> int | float:
    if not number.is_finite():
        raise InvalidOperation
    return int(number) if number == number.to_integral_value() else float(number)


def _instant(text: str) -> str:
    moment = parse_instant(text)
    if moment.tzinfo is None:
        raise ValueError(text)
    return format_instant(moment)


def _cannot(value: object, kind: str) -> str:
    return f"Cannot convert the literal '{value}' to the expected type '{kind}'."


def blank(entity: EntitySet) -> Row:
    """A new row with every property at F&O's default (``""``, ``0``, first enum member).

    An entity's own defaults come first: a new sales order is an open order (``Backorder``),
    not the enum's first member (``None``).
    """
    return {p.name: entity.defaults.get(p.name, p.default()) for p in entity.props}
