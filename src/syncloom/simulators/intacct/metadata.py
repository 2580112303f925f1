"""Object descriptions: ``lookup``, ``inspect`` and ``getDimensions``."""

from __future__ import annotations

from lxml import etree

from syncloom.simulators.intacct.context import Call
from syncloom.simulators.intacct.entities import OBJECTS, UDDS, ObjectDef
from syncloom.simulators.intacct.wire import elem, esc, text

DIMENSIONS = (
    ("DEPARTMENT", "Department"),
    ("LOCATION", "Location"),
    ("PROJECT", "Project"),
    ("CUSTOMER", "Customer"),
    ("VENDOR", "Vendor"),
    ("EMPLOYEE", "Employee"),
    ("ITEM", "Item"),
    ("CLASS", "Class"),
)
READ_ONLY = {"RECORDNO", "WHENCREATED", "WHENMODIFIED", "CREATEDBY", "MODIFIEDBY", "RECORD_URL"}


def _field(obj: ObjectDef, name: str) -> str:
    valid = obj.valid_values.get(name, ())
    values = (
        "<VALIDVALUES>" + "".join(elem("VALIDVALUE", v) for v in valid) + "</VALIDVALUES>"
        if valid
        else ""
    )
    return (
        "<Field>"
        + elem("ID", name)
        + elem("LABEL", name.replace(".", " ").title())
        + elem("DESCRIPTION", "")
        + elem("REQUIRED", str(name in obj.required).lower())
        + elem("READONLY", str(name in READ_ONLY or name.startswith("MEGAENTITY")).lower())
        + elem("DATATYPE", "ENUM" if valid else obj.kind(name))
        + values
        + elem("ISCUSTOM", str(name in obj.custom).lower())
        + "</Field>"
    )


def _detail_field(obj: ObjectDef, name: str, number: int) -> str:
    """One field as ``inspect detail="1"`` describes it (camel-case tags, unlike ``lookup``)."""
    valid = obj.valid_values.get(name, ())
    values = "".join(elem("validValue", v) for v in valid)
    limit = obj.max_length.get(name)
    return (
        "<Field>"
        + elem("Name", name)
        + elem("GroupName", obj.label)
        + elem("dataName", name)
        + elem("externalDataName", name)
        + elem("isRequired", str(name in obj.required).lower())
        + elem("isReadOnly", str(name in READ_ONLY or name.startswith("MEGAENTITY")).lower())
        + elem("maxLength", "" if limit is None else str(limit))
        + elem("DisplayLabel", name.replace(".", " ").replace("_", " ").title())
        + elem("Description", "")
        + elem("id", str(number))
        + elem("relationship", "false")
        + elem("relatedObject", "")
        + elem("isCustom", str(name in obj.custom).lower())
        + elem("type", "ENUM" if valid else obj.kind(name))
        + f"<validValues>{values}</validValues>"
        + "</Field>"
    )


def _type(obj: ObjectDef) -> str:
    fields = "".join(_field(obj, name) for name in obj.fields)
    return (
        f'<Type Name="{esc(obj.name)}" DocumentType=""><Fields>{fields}</Fields>'
        "<Relationships></Relationships></Type>"
    )


def lookup(node: etree._Element, call: Call) -> str:
    """``<lookup><object>X</object></lookup>``: the field list with types and rules."""
    obj = call.object(text(node, "object"))
    return f'<data listtype="All" count="1">{_type(obj)}</data>'


def inspect(node: etree._Element, call: Call) -> str:
    """``<inspect>``: ``*`` lists objects; ``detail="1"`` gives field details."""
    name = text(node, "object")
    if name == "*":
        types = "".join(
            f'<type typename="{o.name}">{esc(o.label)}</type>' for o in OBJECTS.values()
        )
        return f'<data listtype="All" count="1">{types}</data>'
    obj = call.object(name)
    if node.get("detail") == "1":
        fields = "".join(_detail_field(obj, f, n) for n, f in enumerate(obj.fields, 1))
        return (
            f'<data listtype="All" count="1"><Type Name="{esc(obj.name)}" DocumentType="">'
            f"<Fields>{fields}</Fields><Relationships></Relationships></Type></data>"
        )
    fields = "".join(elem("Field", f) for f in obj.fields)
    return (
        f'<data listtype="All" count="1"><Type Name="{obj.name}">'
        f"<Fields>{fields}</Fields></Type></data>"
    )


def get_dimensions(node: etree._Element, call: Call) -> str:
    """``<getDimensions/>``: the standard dimensions, then the user-defined ones (UDDs)."""
    dimensions = [(n, label, False) for n, label in DIMENSIONS]
    dimensions += [(n, label, True) for n, label in UDDS.items()]
    items = "".join(
        "<dimension>"
        + elem("objectName", name)
        + elem("objectLabel", label)
        + elem("termLabel", label)
        + elem("userDefinedDimension", str(udd).lower())
        + elem("enabledInGL", "true")
        + "</dimension>"
        for name, label, udd in dimensions
    )
    return f"<data><dimensions>{items}</dimensions></data>"
