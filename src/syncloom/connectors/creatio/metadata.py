"""Metadata: ``$metadata`` (CSDL) read into :class:`EntitySpec` declarations.

Creatio's model is the truth about which columns exist on this tenant (8.x adds columns,
customers add ``Usr…`` ones); the connector only selects columns the model lists. Lookups
are the ``XxxId`` properties bound by a navigation property's referential constraint.
"""

from __future__ import annotations

from xml.etree.ElementTree import Element, ParseError

from defusedxml import DefusedXmlException, ElementTree

from syncloom.connectors.base import DeletePolicy, EntitySpec, FieldSpec, FieldType
from syncloom.connectors.creatio.entities import (
    DATE_ONLY,
    DERIVED_PREFIX,
    KEY_FIELD,
    MODIFIED_FIELD,
    REQUIRED,
    SERVER_SET,
)
from syncloom.errors import TransientError

# Columns a customer's package adds carry this prefix (Creatio's default; tenants may change it).
CUSTOM_PREFIX = "Usr"

_EDM = "{http://docs.oasis-open.org/odata/ns/edm}"
_TYPES = {
    "Edm.Guid": FieldType.GUID,
    "Edm.String": FieldType.STRING,
    "Edm.Int32": FieldType.INTEGER,
    "Edm.Int64": FieldType.INTEGER,
    "Edm.Boolean": FieldType.BOOLEAN,
    "Edm.Decimal": FieldType.DECIMAL,
    "Edm.Double": FieldType.DECIMAL,
    "Edm.DateTimeOffset": FieldType.DATETIME,
    "Edm.Date": FieldType.DATE,
}


def parse_metadata(xml: bytes) -> dict[str, EntitySpec]:
    """Every entity type of a CSDL document, by name (streams left out).

    Raises:
        TransientError: the document is not well-formed XML or carries a DTD or entities
            (refused, never expanded): a broken proxy or a hostile server.
    """
    try:
        root = ElementTree.fromstring(xml, forbid_dtd=True)
    except (ParseError, DefusedXmlException) as exc:
        raise TransientError(
            f"Creatio sent an unreadable $metadata ({type(exc).__name__}); retry later",
            system="creatio",
        ) from None
    specs = {}
    for entity_type in root.iter(f"{_EDM}EntityType"):
        spec = _entity(entity_type)
        specs[spec.name] = spec
    return specs


def _lookups(entity_type: Element) -> dict[str, str]:
    """Scalar ``XxxId`` → target entity, from navigation properties' constraints."""
    found = {}
    for nav in entity_type.iter(f"{_EDM}NavigationProperty"):
        target = nav.get("Type", "").rsplit(".", 1)[-1]
        for constraint in nav.iter(f"{_EDM}ReferentialConstraint"):
            found[constraint.get("Property", "")] = target
    return found


def _entity(entity_type: Element) -> EntitySpec:
    name = entity_type.get("Name", "")
    lookups = _lookups(entity_type)
    fields = []
    for prop in entity_type.iter(f"{_EDM}Property"):
        field = _field(name, prop, lookups)
        if field is not None:
            fields.append(field)
    return EntitySpec(
        name=name,
        key_fields=(KEY_FIELD,),
        modified_field=MODIFIED_FIELD,
        fields=tuple(fields),
        delete_policy=DeletePolicy.DELETE,
        batch_size=100,
    )


def _field(entity: str, prop: Element, lookups: dict[str, str]) -> FieldSpec | None:
    name, edm = prop.get("Name", ""), prop.get("Type", "")
    kind = _TYPES.get(edm)
    if kind is None:
        return None  # streams and other binary columns are not record values
    if name in lookups:
        kind = FieldType.LOOKUP
    elif kind is FieldType.DATETIME and name in DATE_ONLY.get(entity, frozenset()):
        kind = FieldType.DATE
    required = name in REQUIRED.get(entity, frozenset()) or (
        prop.get("Nullable") == "false" and name != KEY_FIELD
    )
    return FieldSpec(
        name=name,
        type=kind,
        required=required,
        read_only=name in SERVER_SET or name.startswith(DERIVED_PREFIX),
        lookup_entity=lookups.get(name),
        max_length=_max_length(prop),
        custom=name.startswith(CUSTOM_PREFIX),
    )


def _max_length(prop: Element) -> int | None:
    # CSDL allows ``MaxLength="max"`` (no limit); only a number is a limit.
    text = prop.get("MaxLength", "")
    return int(text) if text.isdigit() else None
