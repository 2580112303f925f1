"""Keys: the RecordKey id form of composite F&O keys, and OData key segments.

The id joins the key values in declared order with ``/``: ``usmf/C0001`` for
``CustomersV3(dataAreaId='usmf',CustomerAccount='C0001')``, ``usmf/JB01/1`` for a journal
line, ``usmf`` for a legal entity. ``%`` and ``/`` inside a value are escaped as ``%25`` and
``%2F`` so every id splits back unambiguously. ``dataAreaId`` is kept lower-case, as F&O
returns it.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from urllib.parse import quote

from syncloom.connectors.d365.entities import D365Entity
from syncloom.errors import ValidationError

SYSTEM = "d365"


def _escape(part: str) -> str:
    return part.replace("%", "%25").replace("/", "%2F")


def _unescape(part: str) -> str:
    return part.replace("%2F", "/").replace("%2f", "/").replace("%25", "%")


def key_text(value: object) -> str:
    """One key value as text (decimals without trailing zeros)."""
    if isinstance(value, Decimal | int | float) and not isinstance(value, bool):
        number = Decimal(str(value)).normalize()
        return format(number, "f")
    return str(value)


def make_id(entity: D365Entity, row: dict[str, object]) -> str:
    """The id of a row, from its key fields."""
    parts = []
    for name in entity.spec.key_fields:
        text = key_text(row.get(name, ""))
        parts.append(text.lower() if name == "dataAreaId" else text)
    return "/".join(_escape(p) for p in parts)


def parse_id(entity: D365Entity, ident: str) -> dict[str, object]:
    """Key field values of an id.

    Raises:
        ValidationError: when the id does not have one part per key field.
    """
    parts = [_unescape(p) for p in ident.split("/")]
    keys = entity.spec.key_fields
    if len(parts) != len(keys) or not all(parts):
        raise ValidationError(
            f"{entity.spec.name} id {ident!r} must be {'/'.join(keys)}",
            system=SYSTEM,
            field="/".join(keys),
            vendor_message="bad key",
        )
    values: dict[str, object] = {}
    for name, part in zip(keys, parts, strict=True):
        values[name] = _decimal(part, ident) if name == "LineNumber" else part
    if "dataAreaId" in values:
        values["dataAreaId"] = str(values["dataAreaId"]).lower()
    return values


def _decimal(text: str, ident: str) -> Decimal:
    try:
        return Decimal(text)
    except InvalidOperation:
        raise ValidationError(
            f"key {ident!r}: {text!r} is not a number", system=SYSTEM, field="LineNumber"
        ) from None


def literal(value: object) -> str:
    """An OData literal: strings single-quoted with ``'`` doubled, numbers bare."""
    if isinstance(value, Decimal | int | float) and not isinstance(value, bool):
        return key_text(value)
    return "'" + str(value).replace("'", "''") + "'"


def segment(entity: D365Entity, ident: str) -> str:
    """``CustomersV3(dataAreaId='usmf',CustomerAccount='C0001')``, percent-encoded for a URL."""
    values = parse_id(entity, ident)
    inner = ",".join(f"{k}={literal(v)}" for k, v in values.items())
    return f"{entity.spec.name}({quote(inner, safe=chr(39) + '=,-_.~')})"
