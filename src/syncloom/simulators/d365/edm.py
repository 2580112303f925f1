"""EDM: the ``$metadata`` document (EDMX 4.0), the service document and the metadata service."""

from __future__ import annotations

from xml.sax.saxutils import quoteattr

from syncloom.simulators.d365.entities import CATALOGUE, ENUMS, NAMESPACE, EntitySet


def _entity_type(entity: EntitySet) -> str:
    keys = "".join(f"<PropertyRef Name={quoteattr(k)}/>" for k in entity.keys)
    props = []
    for prop in entity.props:
        facets = ' Nullable="false"' if prop.name in entity.keys else ""
        if prop.name == "dataAreaId":
            facets += ' MaxLength="4"'
        props.append(f"<Property Name={quoteattr(prop.name)} Type={quoteattr(prop.type)}{facets}/>")
    navs = "".join(
        f'<NavigationProperty Name="{nav.name}" '
        f'Type="Collection({NAMESPACE}.{_type_of(nav.target)})"/>'
        for nav in entity.navs
    )
    return (
        f'<EntityType Name="{entity.type_name}"><Key>{keys}</Key>{"".join(props)}{navs}'
        "</EntityType>"
    )


def _type_of(set_name: str) -> str:
    return next(e.type_name for e in CATALOGUE if e.name == set_name)


def metadata_document() -> bytes:
    """The CSDL of every public entity, enum and set."""
    types = "".join(_entity_type(e) for e in CATALOGUE)
    enums = "".join(
        f'<EnumType Name="{name}">'
        + "".join(f'<Member Name="{m}" Value="{i}"/>' for i, m in enumerate(members))
        + "</EnumType>"
        for name, members in ENUMS.items()
    )
    sets = "".join(
        f'<EntitySet Name="{e.name}" EntityType="{NAMESPACE}.{e.type_name}">'
        + "".join(
            f'<NavigationPropertyBinding Path="{n.name}" Target="{n.target}"/>' for n in e.navs
        )
        + "</EntitySet>"
        for e in CATALOGUE
    )
    return (
        '<?xml version="1.0" encoding="utf-8"?>'
        '<edmx:Edmx Version="4.0" xmlns:edmx="http://docs.oasis-open.org/odata/ns/edmx">'
        "<edmx:DataServices>"
        f'<Schema Namespace="{NAMESPACE}" xmlns="http://docs.oasis-open.org/odata/ns/edm">'
        f'{types}{enums}<EntityContainer Name="Resources">{sets}</EntityContainer>'
        "</Schema></edmx:DataServices></edmx:Edmx>"
    ).encode()


def service_document(base: str) -> dict[str, object]:
    return {
        "@odata.context": f"{base}/data/$metadata",
        "value": [{"name": e.name, "kind": "EntitySet", "url": e.name} for e in CATALOGUE],
    }


def data_entities() -> list[dict[str, object]]:
    """Rows of ``/Metadata/DataEntities``."""
    return [
        {
            "Name": e.table,
            "PublicEntityName": e.type_name,
            "PublicCollectionName": e.name,
            "LabelId": f"@SYS:{e.table}Label",
            "DataServiceEnabled": True,
            "DataManagementEnabled": True,
            "EntityCategory": "Document" if e.navs else "Master",
            "IsReadOnly": e.read_only,
        }
        for e in CATALOGUE
    ]
