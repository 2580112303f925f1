"""Generic write functions: ``create``, ``update`` (1-100 records) and ``delete`` (≤ 100 keys).

Records are processed in order and the first failure stops the function, as on the real
gateway: the failure's ``<data>`` lists the records written before it, so a caller knows
exactly which record failed and which never ran.
"""

from __future__ import annotations

from decimal import Decimal

from lxml import etree

from syncloom.simulators.common.store import Row
from syncloom.simulators.intacct.context import Call
from syncloom.simulators.intacct.entities import ObjectDef
from syncloom.simulators.intacct.payments import apply_payment
from syncloom.simulators.intacct.wire import FunctionFailure, IntacctError, support_id, text

NOT_CREATABLE = "Create is not supported for object {name}. Use {legacy}."
LEGACY = {"ARINVOICE": "create_invoice", "SODOCUMENT": "create_sotransaction"}


def flatten(node: etree._Element, prefix: str = "") -> dict[str, str]:
    """Nested write elements (``DISPLAYCONTACT/EMAIL1``) become dotted read names."""
    out: dict[str, str] = {}
    for kid in node:
        if not isinstance(kid.tag, str):
            continue
        name = f"{prefix}{kid.tag}"
        if len(kid):
            out.update(flatten(kid, f"{name}."))
        else:
            out[name] = (kid.text or "").strip()
    return out


def _fail(errorno: str, message: str, correction: str = "") -> IntacctError:
    return IntacctError(errorno, f"{message} [Support ID: {support_id()}]", "", correction)


def _check(obj: ObjectDef, values: dict[str, str], creating: bool) -> None:
    for name in values:
        if not obj.has(name) or name in {"RECORDNO", "WHENMODIFIED", "WHENCREATED"} and creating:
            raise FunctionFailure(
                [_fail("BL01001973", f"Invalid field {name} for object {obj.name}")]
            )
    for name, allowed in obj.valid_values.items():
        if values.get(name) and values[name] not in allowed:
            raise FunctionFailure(
                [_fail("BL01001973", f"Invalid value '{values[name]}' for field {name}")]
            )
    for name, limit in obj.max_length.items():
        if len(values.get(name) or "") > limit:
            raise FunctionFailure(
                [_fail("BL01001973", f"Field {name} exceeds the maximum length of {limit}.")]
            )
    for name in obj.required:
        if (creating and not values.get(name)) or (name in values and not values[name]):
            raise FunctionFailure([_fail("BL01001973", f"Required field {name} is missing.")])


def _listing(tag: str, done: list[tuple[ObjectDef, Row]]) -> str:
    inner = "".join(
        f"<{o.name.lower()}><RECORDNO>{r['RECORDNO']}</RECORDNO>"
        + (
            f"<{o.id_field}>{r.get(o.id_field, '')}</{o.id_field}>"
            if o.id_field != "RECORDNO"
            else ""
        )
        + f"</{o.name.lower()}>"
        for o, r in done
    )
    return f'<data listtype="{tag}" count="{len(done)}">{inner}</data>'


def _records(node: etree._Element) -> list[etree._Element]:
    records = [kid for kid in node if isinstance(kid.tag, str)]
    if not 1 <= len(records) <= 100:
        raise FunctionFailure(
            [_fail("BL01001973", f"A call accepts 1 to 100 records; got {len(records)}.")]
        )
    return records


def create(node: etree._Element, call: Call) -> str:
    """``<create>``: each child is one record of any (generic-creatable) object."""
    done: list[tuple[ObjectDef, Row]] = []
    for element in _records(node):
        try:
            obj = call.object(str(element.tag))
            details = element.find("ARPYMTDETAILS")
            if details is not None:
                element.remove(details)
            row = create_one(obj, flatten(element), call)
            for detail in details if details is not None else []:
                amount = Decimal(text(detail, "TRX_PAYMENTAMOUNT") or "0")
                apply_payment(call, text(detail, "RECORDKEY"), amount)
            done.append((obj, row))
        except FunctionFailure as failure:
            raise FunctionFailure(failure.errors, _listing("objects", done)) from None
    return _listing("objects", done)


def create_one(obj: ObjectDef, values: dict[str, str], call: Call) -> Row:
    """Validate and store one record (shared with ARPYMT's generic create)."""
    if not obj.generic_create:
        legacy = LEGACY.get(obj.name, "the legacy function")
        raise FunctionFailure(
            [_fail("BL01001973", NOT_CREATABLE.format(name=obj.name, legacy=legacy))]
        )
    _check(obj, values, creating=True)
    if obj.has("STATUS") and not values.get("STATUS"):
        values = {**values, "STATUS": "active"}
    ident = values.get(obj.id_field, "")
    if obj.id_field != "RECORDNO" and call.store.by_id(obj, ident) is not None:
        label = obj.label
        raise FunctionFailure(
            [
                IntacctError(
                    "BL34000061",
                    f"Another {label} with the given value(s) {ident}  already exists",
                    "",
                    "Use a unique value instead.",
                ),
                _fail("BL01001973", f"Could not create {obj.name.lower()} record!"),
                _fail("BL01001973", f"Could not create {label} record!"),
            ]
        )
    row = call.store.insert(obj, values, call.user_recordno, call.entity)
    call.transactions += 1
    call.emit(obj, row, "create")
    return row


def update(node: etree._Element, call: Call) -> str:
    """``<update>``: records found by RECORDNO or business id; only given fields change."""
    done: list[tuple[ObjectDef, Row]] = []
    for element in _records(node):
        try:
            obj = call.object(str(element.tag))
            done.append((obj, _update_one(obj, flatten(element), call)))
        except FunctionFailure as failure:
            raise FunctionFailure(failure.errors, _listing("objects", done)) from None
    return _listing("objects", done)


def _update_one(obj: ObjectDef, values: dict[str, str], call: Call) -> Row:
    recordno = values.pop("RECORDNO", "")
    if recordno:
        row, by = call.store.by_recordno(obj, recordno), f"RECORDNO={recordno}"
    else:
        ident = values.get(obj.id_field, "")
        row, by = call.store.by_id(obj, ident), f"{obj.id_field}={ident}"
    if row is None or not call.visible(row):
        message = f"Cannot update non-existing {obj.name} with {by}."
        raise FunctionFailure([IntacctError(message, f"{message} [Support ID: {support_id()}]")])
    _check(obj, values, creating=False)
    changed = call.store.change(obj, row, values, call.user_recordno)
    call.transactions += 1
    call.emit(obj, changed, "update")
    return changed


def delete(node: etree._Element, call: Call) -> str:
    """``<delete>``: RECORDNO list; success has no ``<data>``."""
    obj = call.object(text(node, "object"))
    keys = [k.strip() for k in text(node, "keys").split(",") if k.strip()]
    if not 1 <= len(keys) <= 100:
        raise FunctionFailure([_fail("BL01001973", "A delete accepts 1 to 100 keys.")])
    for key in keys:
        row = call.store.by_recordno(obj, key)
        if row is None or not call.visible(row):
            raise FunctionFailure(
                [_fail("BL01001973", f"Cannot find {obj.name.lower()} with key '{key}' to delete.")]
            )
        call.store.remove(obj, row)
        call.transactions += 1
        call.emit(obj, {**row, "WHENMODIFIED": call.store.stamp()}, "delete")
    return ""
