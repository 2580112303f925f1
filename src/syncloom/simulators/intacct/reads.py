"""Read functions of the simulated gateway: query, readByQuery/readMore, read, readByName.

Each handler takes the function element and the :class:`Call` and returns the XML that goes
after ``<controlid>`` in its ``<result>`` (a ``<data>`` block), or raises FunctionFailure.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from typing import Any

from lxml import etree

from syncloom.simulators.common.store import Row
from syncloom.simulators.intacct.context import Call, Cursor
from syncloom.simulators.intacct.entities import LINE_CONTAINERS, OBJECTS, ObjectDef
from syncloom.simulators.intacct.queries import (
    SqlFilter,
    compile_filter,
    invalid_field,
    query_failed,
    sort_key,
)
from syncloom.simulators.intacct.wire import (
    FunctionFailure,
    IntacctError,
    RawXml,
    attrs,
    record_xml,
    text,
)


def _int(node: etree._Element, path: str, default: int, low: int, high: int, what: str) -> int:
    raw = text(node, path)
    try:
        value = int(raw) if raw else default
    except ValueError:
        raise query_failed(f"Invalid {what} '{raw}'.") from None
    if not low <= value <= high:
        raise query_failed(f"The {what} must be between {low} and {high}.")
    return value


def _select(obj: ObjectDef, node: etree._Element) -> list[str]:
    select = node.find("select")
    names = [(f.text or "").strip() for f in select.findall("field")] if select is not None else []
    if not names:
        raise query_failed("The query requires a select element with at least one field.")
    if "*" in names:
        raise query_failed("Returning all fields is not supported. Select the fields you need.")
    for name in names:
        if not obj.has(name):
            raise invalid_field(obj, name)
    return names


def _order(obj: ObjectDef, node: etree._Element, rows: list[Row], fold: bool) -> list[Row]:
    orders = node.findall("orderby/order")
    for order in reversed(orders):  # stable sorts, last key first
        name = text(order, "field")
        if not obj.has(name):
            raise invalid_field(obj, name)
        descending = order.find("descending") is not None
        rows.sort(key=_by(obj, name, fold), reverse=descending)
    return rows


def _by(obj: ObjectDef, name: str, fold: bool) -> Callable[[Row], Any]:
    return lambda row: sort_key(obj, name, row.get(name), fold)


def query(node: etree._Element, call: Call) -> str:
    """``<query>``: select, filter, orderby, pagesize 1..2000, offset; RECORDNO order default."""
    name = text(node, "object")
    obj = call.object(name)
    fields = _select(obj, node)
    fold = text(node, "options/caseinsensitive").lower() == "true"
    private = text(node, "options/showprivate").lower() == "true"
    pagesize = _int(node, "pagesize", 100, 1, 2000, "pagesize")
    offset = _int(node, "offset", 0, 0, 10**9, "offset")
    filter_node = node.find("filter")
    filters = [] if filter_node is None else [k for k in filter_node if isinstance(k.tag, str)]
    if filter_node is not None and len(filters) != 1:
        raise query_failed("The filter element requires exactly one top-level operator.")
    predicate = compile_filter(obj, filters[0], fold) if filters else None
    candidates = _by_index(obj, filters[0], call) if filters and not fold else None
    source = call.rows(obj, private) if candidates is None else candidates
    rows = [r for r in source if call.visible(r, private) and (predicate is None or predicate(r))]
    if node.find("orderby") is not None:
        rows = _order(obj, node, rows, fold)
    page = rows[offset : offset + pagesize]
    total = len(rows)
    head = attrs(
        {
            "listtype": name,
            "totalcount": total,
            "offset": offset,
            "count": len(page),
            "numremaining": max(0, total - offset - len(page)),
        }
    )
    call.transactions += 1
    return f"<data{head}>" + "".join(record_xml(name, r, fields) for r in page) + "</data>"


def _by_index(obj: ObjectDef, node: etree._Element, call: Call) -> list[Row] | None:
    """Rows for an ``equalto``/``in`` on the business id or RECORDNO, from the index."""
    name = text(node, "field")
    if node.tag not in {"equalto", "in"} or name not in {obj.id_field, "RECORDNO"}:
        return None
    values = [(v.text or "").strip() for v in node.findall("value")]
    find = call.store.by_recordno if name == "RECORDNO" else call.store.by_id
    rows = [row for row in (find(obj, v) for v in values) if row is not None]
    return sorted(rows, key=lambda r: int(r["RECORDNO"]))


def _fields(obj: ObjectDef, node: etree._Element) -> list[str]:
    raw = text(node, "fields", "*") or "*"
    if raw.strip() == "*":
        return list(obj.fields)
    names = [n.strip() for n in raw.split(",") if n.strip()]
    for name in names:
        if not obj.has(name):
            raise FunctionFailure([IntacctError(f"Invalid fields list {raw}", "")])
    return names


def read_by_query(node: etree._Element, call: Call) -> str:
    """``<readByQuery>``: SQL-like string, pagesize 1..1000, lower-case rows, a resultId."""
    obj = call.object(text(node, "object"))
    if node.find("query") is None:
        raise query_failed("The readByQuery function requires a query element.")
    fields = _fields(obj, node)
    predicate = SqlFilter(obj, text(node, "query")).parse()
    pagesize = _int(node, "pagesize", 100, 1, 1000, "pagesize")
    recordnos = [r["RECORDNO"] for r in call.rows(obj) if predicate(r)]
    cursor = Cursor(
        secrets.token_hex(16),
        obj,
        obj.name.lower(),
        fields,
        recordnos,
        0,
        pagesize,
        call.session.sessionid,
    )
    return _page(cursor, call)


def read_more(node: etree._Element, call: Call) -> str:
    """``<readMore>`` by ``resultId`` (or the last readByQuery on ``<object>``)."""
    result_id = text(node, "resultId")
    if not result_id and text(node, "object"):
        wanted = text(node, "object").upper()
        matches = [c for c in call.cursors.values() if c.obj.name == wanted]
        result_id = matches[-1].result_id if matches else ""
    cursor = call.cursors.get(result_id)
    if cursor is None or cursor.position >= len(cursor.recordnos):
        raise FunctionFailure(
            [
                IntacctError(
                    "readMore failed",
                    f"Attempt to readMore with an invalid or expired resultId: {result_id}",
                )
            ]
        )
    return _page(cursor, call)


def _page(cursor: Cursor, call: Call) -> str:
    chunk = cursor.recordnos[cursor.position : cursor.position + cursor.pagesize]
    cursor.position += len(chunk)
    rows = [r for r in (call.store.by_recordno(cursor.obj, n) for n in chunk) if r is not None]
    remaining = len(cursor.recordnos) - cursor.position
    if remaining > 0:
        call.cursors[cursor.result_id] = cursor
    else:
        call.cursors.pop(cursor.result_id, None)
    head = attrs(
        {
            "listtype": cursor.tag,
            "count": len(rows),
            "totalcount": len(cursor.recordnos),
            "numremaining": remaining,
            "resultId": cursor.result_id if remaining > 0 else "",
        }
    )
    call.transactions += 1
    body = "".join(record_xml(cursor.tag, r, cursor.fields) for r in rows)
    return f"<data{head}>{body}</data>"


def _keys(node: etree._Element) -> list[str]:
    keys = [k.strip() for k in text(node, "keys").split(",") if k.strip()]
    if len(keys) > 100:
        raise query_failed("A maximum of 100 keys is allowed per call.")
    return keys


def read(node: etree._Element, call: Call) -> str:
    """``<read>`` by RECORDNO list."""
    obj = call.object(text(node, "object"))
    rows = [call.store.by_recordno(obj, k) for k in _keys(node)]
    return _read_answer(obj, node, call, rows)


def read_by_name(node: etree._Element, call: Call) -> str:
    """``<readByName>`` by business id list."""
    obj = call.object(text(node, "object"))
    rows = [call.store.by_id(obj, k) for k in _keys(node)]
    return _read_answer(obj, node, call, rows)


def _read_answer(obj: ObjectDef, node: etree._Element, call: Call, rows: list[Row | None]) -> str:
    star = (text(node, "fields", "*") or "*") == "*"
    fields = _fields(obj, node)
    found = [r for r in rows if r is not None and call.visible(r)]
    call.transactions += 1
    out = []
    for row in found:
        shown = dict(row)
        names = list(fields)
        if star and obj.lines:
            container = LINE_CONTAINERS[obj.lines]
            shown[container] = _nested_lines(call, obj, row)
            names.append(container)
        out.append(record_xml(obj.name, shown, names))
    return f'<data listtype="{obj.name}" count="{len(found)}">' + "".join(out) + "</data>"


def _nested_lines(call: Call, obj: ObjectDef, row: Row) -> RawXml:
    line_obj = OBJECTS[obj.lines or ""]
    parent = line_obj.line_parent or ""
    lines = [r for r in call.store.all(line_obj) if r.get(parent) == row["RECORDNO"]]
    tag = line_obj.name.lower()
    container = LINE_CONTAINERS[line_obj.name]
    inner = "".join(record_xml(tag, r, list(line_obj.fields)) for r in lines)
    return RawXml(f"<{container}>{inner}</{container}>")
