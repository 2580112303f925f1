"""OData: Creatio's OData 4 entity sets, one request at a time.

``ODataService.dispatch`` answers one request given as method, path below the service root,
query string and body; the HTTP route and each ``$batch`` part go through it, so a batch part
behaves exactly as the same call on its own. No ``@odata.nextLink`` is ever sent: clients
page with ``$top``/``$skip``, and a result over the row limit fails, as on a real site.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl

from syncloom.simulators.common.store import SimStore
from syncloom.simulators.creatio.auth import Caller
from syncloom.simulators.creatio.entities import ENTITIES, Column, Entity
from syncloom.simulators.creatio.queries import (
    Filter,
    bound_key,
    index_order,
    order_rows,
    parse_expand,
    parse_filter,
    parse_orderby,
    parse_select,
    row_order,
)
from syncloom.simulators.creatio.replies import (
    ODataError,
    Reply,
    not_found,
    query_invalid,
    server_error,
)
from syncloom.simulators.creatio.values import wire_value
from syncloom.simulators.creatio.writes import RowWriter, bad_request

Row = dict[str, Any]
_KEYED = re.compile(r"^(?P<set>[A-Za-z_]\w*)(?:\((?P<key>[^)]*)\))?$")
_GUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")


@dataclass(frozen=True)
class Call:
    """One OData request: who, where (``root`` = site root URL), what."""

    caller: Caller
    root: str
    prefix: str
    method: str
    path: str
    query: str = ""
    body: bytes = b""
    content_type: str = ""

    @property
    def service(self) -> str:
        return f"{self.root}{self.prefix}"


class ODataService:
    """The entity sets of one simulated site."""

    def __init__(
        self,
        store: SimStore,
        writer: RowWriter,
        *,
        max_rows: int,
        unknown_set_status: int,
        form_patch: bool,
    ) -> None:
        self.store = store
        self.writer = writer
        self.max_rows = max_rows
        self.unknown_set_status = unknown_set_status
        self.form_patch = form_patch

    def fetch(self, entity: str, key: str) -> Row | None:
        return self.store.table(entity).get(key)

    def dispatch(self, call: Call) -> Reply:
        """Answer one request, turning refusals into Creatio's error replies."""
        try:
            return self._route(call)
        except ODataError as exc:
            return Reply.from_error(exc)

    def _route(self, call: Call) -> Reply:
        parts = call.path.strip("/").split("/")
        match = _KEYED.match(parts[0]) if parts[0] else None
        entity = ENTITIES.get(match.group("set")) if match else None
        if match is None or entity is None:
            raise self._unknown_set(call, parts[0])
        key = match.group("key")
        rest = parts[1:]
        if key is None and rest and _GUID.match(rest[0]):
            key, rest = rest[0], rest[1:]  # batch examples address keys as a path segment
        if key is None:
            return self._on_set(call, entity, rest)
        key = _key(key)
        if rest:
            if call.method != "GET":
                raise ODataError(405, "The requested resource does not support this method.")
            return self._property(call, entity, key, rest)
        return self._on_row(call, entity, key)

    def _unknown_set(self, call: Call, name: str) -> ODataError:
        if self.unknown_set_status == 401:
            return ODataError(401, "", body=None)
        return ODataError(
            404,
            "",
            body={
                "Message": "No HTTP resource was found that matches the request URI "
                f"'{call.service}{call.path}'.",
                "MessageDetail": f"No type was found that matches the controller named '{name}'.",
            },
        )

    def _on_set(self, call: Call, entity: Entity, rest: list[str]) -> Reply:
        if rest == ["$count"] and call.method == "GET":
            rows = self._filtered(entity, _options(call.query))
            return Reply(200, raw=str(len(rows)).encode(), content_type="text/plain")
        if rest:
            raise self._unknown_set(call, "/".join([entity.name, *rest]))
        if call.method == "GET":
            return self._collection(call, entity)
        if call.method == "POST":
            row = self.writer.insert(entity, self._body(call), call.caller)
            location = f"{call.service}{entity.name}({row['Id']})"
            body = {"@odata.context": f"{call.service}$metadata#{entity.name}/$entity"}
            body.update(render(entity, row, call.service))
            return Reply(201, body, {"Location": location})
        raise ODataError(405, "The requested resource does not support this method.")

    def _on_row(self, call: Call, entity: Entity, key: str) -> Reply:
        if call.method == "GET":
            row = self.fetch(entity.name, key)
            if row is None:
                raise not_found()
            options = _options(call.query)
            body = {"@odata.context": f"{call.service}$metadata#{entity.name}/$entity"}
            body.update(self._shape(call, entity, row, options))
            return Reply(200, body)
        if call.method in {"PATCH", "MERGE", "PUT"}:
            self.writer.update(entity, key, self._body(call), call.caller)
            return Reply(204)
        if call.method == "DELETE":
            self.writer.delete(entity, key)
            return Reply(204)
        raise ODataError(405, "The requested resource does not support this method.")

    def _property(self, call: Call, entity: Entity, key: str, rest: list[str]) -> Reply:
        row = self.fetch(entity.name, key)
        column = entity.by_storage.get(rest[0])
        if column is None:
            raise ODataError(404, "", body=None)
        if row is None:
            raise not_found()
        value = wire_value(column, row.get(column.storage))
        if rest[1:] == ["$value"]:
            return Reply(200, raw=str(value).encode(), content_type="text/plain")
        context = f"{call.service}$metadata#{entity.name}({key})/{column.name}"
        return Reply(200, {"@odata.context": context, "value": value})

    def _body(self, call: Call) -> dict[str, Any]:
        if "application/x-www-form-urlencoded" in call.content_type:
            if call.method == "PATCH" and self.form_patch:
                return dict(parse_qsl(call.body.decode("utf-8", "replace")))
            raise ODataError(415, "The request entity's media type is not supported.")
        try:
            body = json.loads(call.body or b"null")
        except (ValueError, UnicodeDecodeError):
            raise bad_request("The request body is not valid JSON.") from None
        if not isinstance(body, dict):
            raise bad_request("The request body must be a JSON object.")
        return body

    # -- reading ------------------------------------------------------------------------
    def _filtered(self, entity: Entity, options: dict[str, str]) -> list[Row]:
        rows = list(self.store.table(entity.name).values())
        if "$filter" in options:
            predicate = parse_filter(entity, options["$filter"])
            rows = [r for r in rows if predicate(r, self.fetch)]
        return rows

    def _indexed_page(self, entity: Entity, options: dict[str, str]) -> list[Row] | None:
        """A ``$top`` page read through an ordered index, as a database would.

        ``None`` when the query needs the whole collection (a count, a descending or a
        navigation order). Otherwise it returns exactly what filtering and sorting the
        whole table would: the index keeps ties in table order, and the scan starts at the
        filter's lower bound on the first order column, below which no row can match.
        """
        test = parse_filter(entity, options["$filter"]) if "$filter" in options else None
        order = options.get("$orderby", "Id")
        parse_orderby(entity, order)  # reports bad text as the full path would
        skip, top = _int(options, "$skip", None) or 0, _int(options, "$top", None)
        columns = index_order(entity, order)
        if top is None or columns is None or options.get("$count", "").lower() == "true":
            return None
        lower = None
        if isinstance(test, Filter) and columns[0] in test.lower:
            lower = bound_key(test.lower[columns[0]])

        def accept(row: Row) -> bool:
            return test is None or test(row, self.fetch)

        try:
            rows = self.store.first(
                entity.name, ",".join(columns), row_order(columns), skip + top, accept, lower
            )
        except TypeError:  # values that do not sort together: the full path says so
            return None
        return rows[skip:]

    def _collection(self, call: Call, entity: Entity) -> Reply:
        options = _options(call.query)
        page = self._indexed_page(entity, options)
        if page is not None:
            rows, total = page, None
        else:
            rows = self._filtered(entity, options)
            keys = parse_orderby(entity, options.get("$orderby", "Id"))
            total = len(rows)
            skip, top = _int(options, "$skip", None) or 0, _int(options, "$top", None)
            limit = None if top is None else skip + top
            rows = order_rows(rows, keys, self.fetch, limit)[skip:limit]
        if len(rows) > self.max_rows:
            raise server_error(
                f"The number of rows to return ({len(rows)}) exceeds the allowed maximum of "
                f"{self.max_rows} (MaxEntityRowCount). Use $top and $skip."
            )
        body: dict[str, Any] = {"@odata.context": f"{call.service}$metadata#{entity.name}"}
        if total is not None and options.get("$count", "").lower() == "true":
            body["@odata.count"] = total
        body["value"] = [self._shape(call, entity, row, options) for row in rows]
        return Reply(200, body)

    def _shape(self, call: Call, entity: Entity, row: Row, options: dict[str, str]) -> Row:
        select = parse_select(entity, options["$select"]) if "$select" in options else None
        out = render(entity, row, call.service, select)
        for nav, nested in parse_expand(entity, options.get("$expand", "")):
            assert nav.ref is not None
            target = self.fetch(nav.ref, row.get(nav.storage, ""))
            out[nav.name] = (
                render(ENTITIES[nav.ref], target, call.service, nested) if target else None
            )
        return out


def render(entity: Entity, row: Row, service: str, select: list[str] | None = None) -> Row:
    """A stored row as OData JSON: every column (or the selected ones), streams annotated."""
    columns: list[Column] = (
        [entity.by_storage[n] for n in select] if select is not None else list(entity.columns)
    )
    out: Row = {}
    for column in columns:
        if column.kind == "stream":
            link = f"{entity.name}({row['Id']})/{column.name}"
            out[f"{column.name}@odata.mediaEditLink"] = link
            out[f"{column.name}@odata.mediaReadLink"] = link
            out[f"{column.name}@odata.mediaContentType"] = "application/octet-stream"
        else:
            out[column.storage] = wire_value(column, row.get(column.storage))
    return out


def _key(text: str) -> str:
    text = text.strip()
    if text.startswith("guid'"):
        text = text[5:].rstrip("'")
    if not _GUID.match(text):
        raise query_invalid(f"The key value '{text}' is not a valid 'Edm.Guid'.")
    return text.lower()


def _options(query: str) -> dict[str, str]:
    # parse_qsl decodes %24 to $ and + to a space, as clients such as requests encode them.
    return dict(parse_qsl(query, keep_blank_values=True))


def _int(options: dict[str, str], name: str, default: int | None) -> int | None:
    if name not in options:
        return default
    text = options[name]
    if not text.isdigit():
        raise query_invalid(f"Invalid value '{text}' for {name} query option found.")
    return int(text)
