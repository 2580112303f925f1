"""Grouping: a flow's source read as groups of records, one record per group, with totals.

How does stock held in many warehouses become one availability figure, or a customer's
open invoices one balance? A flow's ``aggregate`` names the fields that form a group and the
fields to total. The group is a record of its own whose key is ``group:`` and the group's
values, so the record job links, compares and writes it like any other record; a hint about
any member (one warehouse's row) is a hint about its group.

Example::

    ident = group_id(spec, row.values)        # "group:usmf/P00003"
    record = combine(spec, key, members)      # sums, least, greatest, count
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal, InvalidOperation
from urllib.parse import quote, unquote

from syncloom.connectors.base import Record, RecordKey, Values
from syncloom.engine.flows import Aggregate
from syncloom.errors import MappingError

__all__ = ["GROUP_PREFIX", "combine", "group_id", "group_values", "is_group"]

GROUP_PREFIX = "group:"


def is_group(ident: str) -> bool:
    """True when ``ident`` names a group rather than one record."""
    return ident.startswith(GROUP_PREFIX)


def group_id(spec: Aggregate, values: Values) -> str:
    """The id of the group a record with ``values`` belongs to.

    Raises:
        MappingError: the record lacks a value of a ``group_by`` field.
    """
    parts = []
    for name in spec.group_by:
        value = values.get(name)
        if value is None or value == "":
            raise MappingError(f"cannot group a record without {name}", field=name)
        parts.append(quote(str(value), safe=""))
    return GROUP_PREFIX + "/".join(parts)


def group_values(spec: Aggregate, ident: str) -> dict[str, object]:
    """The ``group_by`` values a group id stands for (the criteria that find its members)."""
    parts = ident[len(GROUP_PREFIX) :].split("/")
    if len(parts) != len(spec.group_by):
        raise MappingError(f"{ident!r} is not a group of {', '.join(spec.group_by)}")
    return {name: unquote(part) for name, part in zip(spec.group_by, parts, strict=True)}


def _number(value: object, name: str) -> Decimal:
    if value is None or value == "":
        return Decimal(0)
    try:
        return Decimal(str(value))
    except InvalidOperation as exc:
        raise MappingError(f"cannot total {name}: {value!r} is not a number", field=name) from exc


def combine(spec: Aggregate, key: RecordKey, members: Sequence[Record]) -> Record:
    """One record for the group ``key`` of ``members`` (at least one)."""
    values: dict[str, object] = group_values(spec, key.id)
    for name in spec.sum:
        values[name] = sum((_number(m.values.get(name), name) for m in members), Decimal(0))
    for names, pick in ((spec.min, min), (spec.max, max)):
        for name in names:
            present = [m.values[name] for m in members if m.values.get(name) is not None]
            values[name] = pick(present) if present else None  # type: ignore[type-var]
    if spec.count:
        values[spec.count] = len(members)
    return Record(key, values, max(m.modified_on_utc for m in members))
