"""Function bodies the connector sends, and the value conversions at its edge.

Values travel as strings: dates ``mm/dd/yyyy``, timestamps ``mm/dd/yyyy hh:mm:ss`` in the
company's time zone (made explicit here: parsed in that zone, returned as UTC), money as
plain decimals, booleans ``true``/``false``. Nested groups are dotted on read and nested
elements on write.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from xml.sax.saxutils import escape
from zoneinfo import ZoneInfo

from syncloom.connectors.base import FieldType
from syncloom.connectors.intacct.entities import IntacctEntity

TIMESTAMP = "%m/%d/%Y %H:%M:%S"
DATE = "%m/%d/%Y"


def el(tag: str, value: object = "") -> str:
    """One element with escaped text."""
    return f"<{tag}>{escape(str(value))}</{tag}>"


def to_wire(value: object) -> str:
    """A Python value as Intacct writes it."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        raise TypeError("write timestamps are set by Intacct; pass a date")
    if isinstance(value, date):
        return value.strftime(DATE)
    return str(value)


def from_wire(kind: FieldType, raw: str, tz: ZoneInfo) -> object:
    """An Intacct wire string as a Python value of ``kind`` (empty → None)."""
    if raw == "":
        return None
    try:
        if kind is FieldType.DECIMAL:
            return Decimal(raw)
        if kind is FieldType.INTEGER:
            return int(raw)
        if kind is FieldType.BOOLEAN:
            return raw.lower() == "true"
        if kind is FieldType.DATE:
            return datetime.strptime(raw, DATE).replace(tzinfo=UTC).date()
        if kind is FieldType.DATETIME:
            return parse_timestamp(raw, tz)
    except (ValueError, InvalidOperation):
        return raw
    return raw


def parse_timestamp(raw: str, tz: ZoneInfo) -> datetime:
    """``mm/dd/yyyy hh:mm:ss`` (or a bare date) in the company's zone, as aware UTC."""
    fmt = TIMESTAMP if " " in raw else DATE
    return datetime.strptime(raw, fmt).replace(tzinfo=tz).astimezone(UTC)


def format_timestamp(moment: datetime, tz: ZoneInfo) -> str:
    """An aware instant as the company's wall-clock timestamp (one-second resolution)."""
    return moment.astimezone(tz).strftime(TIMESTAMP)


def nest(values: Mapping[str, object]) -> str:
    """Dotted read names → nested write elements, in the order given."""
    tree: dict[str, object] = {}
    for name, value in values.items():
        node = tree
        *parents, leaf = name.split(".")
        for part in parents:
            node = node.setdefault(part, {})  # type: ignore[assignment]
        node[leaf] = value
    return _render(tree)


def _render(tree: Mapping[str, object]) -> str:
    return "".join(
        f"<{k}>{_render(v)}</{k}>" if isinstance(v, dict) else el(k, to_wire(v))
        for k, v in tree.items()
    )


def query(
    entity: IntacctEntity,
    fields: Sequence[str],
    condition: str = "",
    order: Sequence[str] | None = None,
    pagesize: int = 100,
    offset: int = 0,
) -> str:
    """A ``<query>`` body; ``condition`` is one filter operator element (or empty).

    Rows come in ``order``, by default the record number.
    """
    select = "".join(el("field", f) for f in fields)
    order = order or (entity.recordno_field,)
    orders = "".join(f"<order>{el('field', f)}<ascending/></order>" for f in order)
    filt = f"<filter>{condition}</filter>" if condition else ""
    return (
        f"<query>{el('object', entity.name)}<select>{select}</select>{filt}"
        f"<orderby>{orders}</orderby><options><showprivate>true</showprivate></options>"
        f"{el('pagesize', pagesize)}{el('offset', offset)}</query>"
    )


def compare(op: str, field: str, value: object) -> str:
    """One comparison operator element."""
    return f"<{op}>{el('field', field)}{el('value', to_wire(value))}</{op}>"


def all_of(parts: Sequence[str]) -> str:
    """The conditions joined by ``<and>`` (or the single one)."""
    parts = [p for p in parts if p]
    if len(parts) <= 1:
        return parts[0] if parts else ""
    return "<and>" + "".join(parts) + "</and>"


def after(
    stamp: str, recordno: str, modified: str = "WHENMODIFIED", number: str = "RECORDNO"
) -> str:
    """Rows strictly after (``WHENMODIFIED``, ``RECORDNO``) = (stamp, recordno): a keyset.

    Platform objects name the two fields ``updatedAt`` and ``id``.
    """
    return (
        "<or>"
        + compare("greaterthan", modified, stamp)
        + "<and>"
        + compare("equalto", modified, stamp)
        + compare("greaterthan", number, recordno)
        + "</and></or>"
    )


def by_keys(entity: IntacctEntity, keys: Sequence[str]) -> str:
    """A ``query`` for up to 100 records by key.

    ``readByName`` takes a comma-separated key list, which cannot carry ids that contain
    commas (``CONTACTNAME`` is usually ``Last, First``), so keys go in an ``<in>`` filter.
    """
    values = "".join(el("value", k) for k in keys)
    condition = f"<in>{el('field', entity.key_field)}{values}</in>"
    return query(entity, entity.read_fields, condition, pagesize=max(1, len(keys)))


def create(entity: IntacctEntity, records: Sequence[Mapping[str, object]]) -> str:
    """A generic ``<create>`` body."""
    return (
        "<create>"
        + "".join(f"<{entity.name}>{nest(r)}</{entity.name}>" for r in records)
        + "</create>"
    )


def update(entity: IntacctEntity, records: Sequence[Mapping[str, object]]) -> str:
    """A generic ``<update>`` body."""
    return (
        "<update>"
        + "".join(f"<{entity.name}>{nest(r)}</{entity.name}>" for r in records)
        + "</update>"
    )


def delete(entity: IntacctEntity, recordnos: Sequence[str]) -> str:
    """A ``<delete>`` body by RECORDNO."""
    return f"<delete>{el('object', entity.name)}{el('keys', ','.join(recordnos))}</delete>"
