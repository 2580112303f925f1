"""Inspect: an object's fields as this company has them, from ``inspect detail="1"``.

The connector declares the standard fields it syncs (their types are exact there); the
company's own answer adds what only it knows: which fields it made required, each field's
maximum length and valid values (picklists), and its user-defined fields (UDFs), which a
company adds under Customization Services and which appear on records by their field ID.
"""

from __future__ import annotations

from dataclasses import replace

from lxml import etree

from syncloom.connectors.base import FieldSpec, FieldType
from syncloom.connectors.intacct.entities import IntacctEntity
from syncloom.connectors.intacct.queries import el

__all__ = ["inspect_body", "merge", "parse_inspect"]

# Intacct's DATATYPE words (``lookup`` and ``inspect`` agree on them).
_TYPES = {
    "TEXT": FieldType.STRING,
    "INTEGER": FieldType.INTEGER,
    "DECIMAL": FieldType.DECIMAL,
    "CURRENCY": FieldType.DECIMAL,
    "PERCENT": FieldType.DECIMAL,
    "BOOLEAN": FieldType.BOOLEAN,
    "DATE": FieldType.DATE,
    "TIMESTAMP": FieldType.DATETIME,
    "ENUM": FieldType.ENUM,
}


def inspect_body(entity: str) -> str:
    """The function body asking for ``entity``'s field details."""
    return f'<inspect detail="1">{el("object", entity)}</inspect>'


def _text(field: etree._Element, *tags: str) -> str:
    # ``inspect detail="1"`` names children in camel case, ``lookup`` in capitals.
    for tag in tags:
        found = field.findtext(tag)
        if found is not None:
            return found.strip()
    return ""


def _flag(field: etree._Element, *tags: str) -> bool:
    return _text(field, *tags).lower() == "true"


def _field(field: etree._Element) -> FieldSpec | None:
    name = _text(field, "Name", "ID")
    if not name:
        return None
    valid = tuple(
        (v.text or "").strip()
        for v in field.iter("validValue", "VALIDVALUE")
        if (v.text or "").strip()
    )
    limit = _text(field, "maxLength", "MAXLENGTH")
    kind = _TYPES.get(_text(field, "type", "DATATYPE").upper(), FieldType.STRING)
    return FieldSpec(
        name=name,
        type=FieldType.ENUM if valid else kind,
        required=_flag(field, "isRequired", "REQUIRED"),
        read_only=_flag(field, "isReadOnly", "READONLY"),
        max_length=int(limit) if limit.isdigit() else None,
        allowed_values=valid,
        custom=_flag(field, "isCustom", "ISCUSTOM"),
        label=_text(field, "DisplayLabel", "LABEL") or None,
    )


def parse_inspect(data: etree._Element | None) -> list[FieldSpec]:
    """The fields of an ``inspect``/``lookup`` answer's ``<data>``, in the answer's order."""
    if data is None:
        return []
    found = (_field(f) for f in data.iter("Field"))
    return [f for f in found if f is not None]


def merge(entity: IntacctEntity, discovered: list[FieldSpec]) -> IntacctEntity:
    """The declared entity with what the company says about each field, plus its UDFs.

    Declared types win (the company answers ``TEXT`` for many typed fields); the company's
    limits, choices and required flags are added. A declared field stays required even when
    the company does not say so: the declaration records what a create needs.
    """
    by_name = {f.name: f for f in discovered}
    fields = []
    for declared in entity.fields:
        told = by_name.get(declared.name)
        if told is None:
            fields.append(declared)
            continue
        fields.append(
            replace(
                declared,
                required=declared.required or (told.required and not told.read_only),
                read_only=declared.read_only or told.read_only,
                max_length=told.max_length,
                allowed_values=told.allowed_values,
                custom=told.custom,
                label=told.label,
            )
        )
    known = {f.name for f in entity.fields}
    fields += [f for f in discovered if f.custom and f.name not in known]
    return replace(entity, fields=tuple(fields))
