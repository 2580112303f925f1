"""Queries: ``$filter`` text and change cursors, written the way Creatio parses them.

Literal rules: GUIDs and date-times are unquoted; strings are single-quoted with ``'``
doubled; lookups are filtered through their navigation path (``Account/Id``), never the flat
``AccountId`` column, which Creatio answers with a 500.
"""

from __future__ import annotations

import base64
import uuid
from datetime import date, datetime
from decimal import Decimal

from syncloom.connectors.base import EntitySpec, FieldType
from syncloom.connectors.creatio.entities import KEY_FIELD, MODIFIED_FIELD
from syncloom.connectors.creatio.values import format_instant, parse_instant
from syncloom.errors import ConfigError, MappingError

CHANGE_ORDER = f"{MODIFIED_FIELD} asc,{KEY_FIELD} asc"


def literal(value: object, kind: FieldType | None = None) -> str:
    """A Python value as an OData 4 literal in Creatio's dialect."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        return format_instant(value)
    if isinstance(value, date):
        return f"{value.isoformat()}T00:00:00Z"
    if isinstance(value, int | Decimal | float) and kind is not FieldType.STRING:
        return str(value)
    # A number compared with a text column (an ERP's numeric id kept as text) is quoted:
    # Creatio rejects comparing Edm.String with Edm.Int32.
    text = str(value)
    if kind in {FieldType.GUID, FieldType.LOOKUP}:
        return str(uuid.UUID(text))
    return "'" + text.replace("'", "''") + "'"


def path_of(spec: EntitySpec, name: str) -> str:
    """The filterable path of a field: lookups as ``Nav/Id``."""
    field = spec.field(name)
    if field is not None and field.type is FieldType.LOOKUP and name.endswith("Id"):
        return f"{name[:-2]}/Id"
    return name


def equals_all(spec: EntitySpec, criteria: dict[str, object]) -> str:
    """``a eq x and b eq y`` for search criteria."""
    clauses = []
    for name, value in criteria.items():
        field = spec.field(name)
        if field is None:
            raise ConfigError(f"{spec.name} has no field {name!r} to search on")
        clauses.append(f"{path_of(spec, name)} eq {literal(value, field.type)}")
    return " and ".join(clauses)


def since_filter(since: datetime) -> str:
    """Rows modified at or after ``since`` (inclusive, so a watermark may overlap)."""
    return f"{MODIFIED_FIELD} ge {format_instant(since)}"


def keyset_filter(modified_on: str, key: str) -> str:
    """Rows strictly after (``modified_on``, ``key``) in the change order.

    Why keyset and not ``$skip``: the set moves while we page. A row updated between two
    pages jumps to the end of the order, so ``$skip`` would shift every later row one place
    and skip one; a row sharing a timestamp with the page edge would be lost or repeated.
    Continuing strictly after the last (ModifiedOn, Id) seen reads each row once per version
    whatever happens between calls, and ties on ModifiedOn are broken by Id, the same order
    the server sorts by. ``modified_on`` is Creatio's own text (seven fractional digits), as
    Python datetimes hold only six and a rounded edge could drop or repeat rows.
    """
    return (
        f"{MODIFIED_FIELD} gt {modified_on} or "
        f"({MODIFIED_FIELD} eq {modified_on} and {KEY_FIELD} gt {key})"
    )


def encode_cursor(modified_on: str, key: str) -> str:
    """An opaque cursor continuing after (``modified_on``, ``key``)."""
    raw = f"v1|{modified_on}|{key}".encode()
    return base64.urlsafe_b64encode(raw).decode()


def decode_cursor(cursor: str) -> tuple[str, str]:
    """The (ModifiedOn text, Id) a cursor continues after.

    Raises:
        ConfigError: when the cursor was not made by this connector.
    """
    try:
        version, modified_on, key = base64.urlsafe_b64decode(cursor).decode().split("|")
        uuid.UUID(key)
        parse_instant(modified_on)
    except (ValueError, MappingError):
        raise ConfigError(f"not a Creatio change cursor: {cursor!r}") from None
    if version != "v1":
        raise ConfigError(f"unknown Creatio cursor version {version!r}")
    return modified_on, key
