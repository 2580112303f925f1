"""Intacct record elements → :class:`~syncloom.connectors.base.Record`.

Every documented shape is accepted: upper-case children (``query``, ``read``), lower-case ones
(``readByQuery``, ``create``), dotted element names, empty ``<X/>`` elements, and legacy
``<key>`` answers (handled by the caller, which re-reads by key).
"""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from lxml import etree

from syncloom.connectors.base import Record, RecordKey
from syncloom.connectors.intacct.entities import IntacctEntity
from syncloom.connectors.intacct.queries import from_wire, parse_timestamp
from syncloom.errors import PermanentError

SYSTEM = "intacct"
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def raw_values(element: etree._Element) -> dict[str, str]:
    """The element's children as ``{tag: text}`` (nested line containers skipped)."""
    return {
        str(kid.tag): (kid.text or "").strip()
        for kid in element
        if isinstance(kid.tag, str) and len(kid) == 0
    }


def to_record(entity: IntacctEntity, element: etree._Element, tz: ZoneInfo) -> Record:
    """Typed values, UTC modified-on, the business id as key, ``WHENMODIFIED`` as version."""
    raw = raw_values(element)
    values = {
        name: from_wire(entity.kind(name), text, tz)
        for name, text in raw.items()
        if name in entity.field_names
    }
    stamp = raw.get(entity.modified_field, "")
    try:
        modified = parse_timestamp(stamp, tz) if stamp else EPOCH
    except ValueError:
        # The change order and the watermark hang on this stamp: refuse, never guess.
        raise PermanentError(
            f"Intacct sent an unreadable {entity.modified_field} {stamp[:40]!r} on {entity.name}",
            system=SYSTEM,
            record_key=f"{SYSTEM}:{entity.name}:{raw.get(entity.key_field, '')}",
        ) from None
    return Record(
        key=RecordKey(SYSTEM, entity.name, raw.get(entity.key_field, "")),
        values=values,
        modified_on_utc=modified,
        version=stamp or None,
        modified_by=raw.get(entity.modified_by_field) or None,
    )
