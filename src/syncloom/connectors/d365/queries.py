"""Queries: ``$filter`` and ``$orderby`` text for polling, key sweeps and searches.

Change polling orders by (modified field, key fields) and pages with a keyset cursor, so a
page edge that falls inside a run of equal timestamps loses and repeats nothing. Searches use
``eq``; note that F&O reads ``*`` inside an ``eq`` string as a wildcard.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping
from datetime import date, datetime
from decimal import Decimal

from syncloom.connectors.base import FieldType
from syncloom.connectors.d365.entities import ENUM_NAMESPACE, D365Entity
from syncloom.connectors.d365.keys import literal
from syncloom.connectors.d365.values import format_instant, to_wire
from syncloom.errors import ValidationError


def value_literal(entity: D365Entity, name: str, value: object) -> str:
    """A Python value as a filter literal for field ``name``."""
    spec = entity.spec.field(name)
    kind = spec.type if spec else FieldType.STRING
    if kind is FieldType.BOOLEAN and isinstance(value, bool):
        return f"{ENUM_NAMESPACE}.NoYes'{'Yes' if value else 'No'}'"
    if kind is FieldType.ENUM and spec is not None:
        return literal(value)
    if isinstance(value, datetime | date):
        return str(to_wire(kind, value))
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    return literal(value)


def equals(entity: D365Entity, criteria: Mapping[str, object]) -> str:
    """``A eq 'x' and B eq 2`` for search criteria.

    Raises:
        ValidationError: for a field the entity does not declare.
    """
    parts = []
    for name, value in criteria.items():
        if entity.spec.field(name) is None:
            raise ValidationError(
                f"{entity.spec.name} has no field {name!r}", field=name, system="d365"
            )
        parts.append(f"{name} eq {value_literal(entity, name, value)}")
    return " and ".join(parts)


def order(entity: D365Entity) -> str:
    """``$orderby`` of change polling: modified field, then the key fields."""
    fields = ([entity.spec.modified_field] if entity.spec.modified_field else []) + list(
        entity.spec.key_fields
    )
    return ",".join(fields)


def changes_filter(entity: D365Entity, since: datetime | None, cursor: str | None) -> str:
    """The filter of one page of changes: at or after ``since``, after the cursor row."""
    modified = entity.spec.modified_field
    parts = []
    if since is not None and modified:
        parts.append(f"{modified} ge {format_instant(since)}")
    if cursor:
        parts.append(_after(entity, decode_cursor(cursor)))
    return " and ".join(f"({p})" for p in parts)


def _after(entity: D365Entity, last: list[object]) -> str:
    """Rows strictly after ``last`` in (modified, keys...) order, as nested or/and."""
    names = ([entity.spec.modified_field] if entity.spec.modified_field else []) + list(
        entity.spec.key_fields
    )
    if len(last) != len(names):
        raise ValidationError("cursor does not belong to this entity", system="d365")
    clause = ""
    for name, value in reversed(list(zip(names, last, strict=True))):
        lit = _cursor_literal(entity, name, value)
        clause = (
            f"{name} gt {lit}"
            if not clause
            else f"{name} gt {lit} or ({name} eq {lit} and ({clause}))"
        )
    return clause


def _cursor_literal(entity: D365Entity, name: str, value: object) -> str:
    spec = entity.spec.field(name)
    if spec is not None and spec.type is FieldType.DATETIME and isinstance(value, str):
        return value  # unquoted DateTimeOffset literal, as F&O printed it
    if spec is not None and spec.type is FieldType.DECIMAL:
        return str(Decimal(str(value)))
    return literal(value)


def encode_cursor(values: list[object]) -> str:
    """An opaque cursor for the row with these (modified, key...) values."""
    raw = json.dumps([str(v) if isinstance(v, Decimal) else v for v in values]).encode()
    return base64.urlsafe_b64encode(raw).decode()


def decode_cursor(cursor: str) -> list[object]:
    """The raw row values a cursor stands for.

    Raises:
        ValidationError: when the cursor was not made by :func:`encode_cursor`.
    """
    try:
        values = json.loads(base64.urlsafe_b64decode(cursor.encode()))
    except ValueError:
        raise ValidationError(f"not a D365 change cursor: {cursor[:40]!r}", system="d365") from None
    if not isinstance(values, list):
        raise ValidationError("not a D365 change cursor", system="d365")
    return values
