"""Metadata: the CSDL (EDMX 4.0) document and the service document of the OData service.

Each lookup appears as its scalar ``XxxId`` (``Edm.Guid``) and as a navigation property with
a referential constraint, in the ``Terrasoft.Configuration.OData`` namespace.
"""

from __future__ import annotations

from xml.sax.saxutils import quoteattr

from syncloom.simulators.creatio.entities import ENTITIES, NAMESPACE, Entity


def _entity_type(entity: Entity) -> list[str]:
    lines = [f"<EntityType Name={quoteattr(entity.name)}>", '<Key><PropertyRef Name="Id"/></Key>']
    for column in entity.columns:
        nullable = "false" if column.name == "Id" or column.required else "true"
        attrs = f"Name={quoteattr(column.storage)} Type={quoteattr(column.edm)}"
        if column.kind == "decimal":
            attrs += f' Precision="18" Scale="{column.scale}"'
        if column.max_length is not None:
            attrs += f' MaxLength="{column.max_length}"'
        lines.append(f'<Property {attrs} Nullable="{nullable}"/>')
    for nav in entity.navigations.values():
        lines.append(
            f"<NavigationProperty Name={quoteattr(nav.name)} "
            f'Type="{NAMESPACE}.{nav.ref}">'
            f'<ReferentialConstraint Property="{nav.storage}" ReferencedProperty="Id"/>'
            "</NavigationProperty>"
        )
    lines.append("</EntityType>")
    return lines


def csdl() -> str:
    """The ``$metadata`` document."""
    lines = [
        '<?xml version="1.0" encoding="utf-8"?>',
        '<edmx:Edmx Version="4.0" xmlns:edmx="http://docs.oasis-open.org/odata/ns/edmx">',
        "<edmx:DataServices>",
        f'<Schema Namespace="{NAMESPACE}" xmlns="http://docs.oasis-open.org/odata/ns/edm">',
    ]
    for entity in ENTITIES.values():
        lines.extend(_entity_type(entity))
    lines.append('<EntityContainer Name="Container">')
    for entity in ENTITIES.values():
        lines.append(
            f'<EntitySet Name="{entity.name}" EntityType="{NAMESPACE}.{entity.name}">'
            + "".join(
                f'<NavigationPropertyBinding Path="{n.name}" Target="{n.ref}"/>'
                for n in entity.navigations.values()
            )
            + "</EntitySet>"
        )
    lines += ["</EntityContainer>", "</Schema>", "</edmx:DataServices>", "</edmx:Edmx>"]
    return "\n".join(lines)


def service_document(service: str) -> dict[str, object]:
    return {
        "@odata.context": f"{service}$metadata",
        "value": [{"name": n, "kind": "EntitySet", "url": n} for n in ENTITIES],
    }
