"""Reads: collections, keyed rows, ``$count``, paging and company scoping.

Without ``cross-company=true`` a query sees only the caller's default company; keyed access
to another company's row without it is a 404, as client libraries assume. Pages hold at
most ``page_size`` rows (10,000 in F&O; ``Prefer: odata.maxpagesize`` may lower it) and a cut
page carries an absolute ``@odata.nextLink`` with ``$skip`` that keeps the other options.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import quote, urlencode

from syncloom.simulators.common.store import SimStore
from syncloom.simulators.d365 import queries
from syncloom.simulators.d365.entities import SETS, EntitySet
from syncloom.simulators.d365.rows import Row, public, store_key
from syncloom.simulators.d365.wire import ODataRequest, ODataResponse, error

MAX_PAGE = 10_000


def cross_company(request: ODataRequest) -> bool:
    return request.params.get("cross-company", "").lower() == "true"


def visible(entity: EntitySet, row: Row, request: ODataRequest) -> bool:
    """Whether the caller's company scope includes ``row``."""
    if not entity.company_specific or cross_company(request):
        return True
    return bool(row["dataAreaId"] == request.caller.user.default_company)


def find(store: SimStore, entity: EntitySet, key_text: str, request: ODataRequest) -> Row | None:
    """The row a key segment names, within the caller's scope."""
    key = queries.parse_key(key_text, entity.keys)
    row = store.get(entity.name, store_key(entity, key))
    if row is None or not visible(entity, row, request):
        return None
    return row


def not_found(request: ODataRequest) -> ODataResponse:
    return error(404, f"Resource not found for the segment '{request.path.split('/')[0]}'.")


class Reader:
    """Answers GET requests on entity sets."""

    def __init__(
        self,
        store: SimStore,
        page_size: int = MAX_PAGE,
        refresh: Callable[[EntitySet, Row], None] | None = None,
    ) -> None:
        self.store = store
        self.page_size = page_size
        # Columns F&O computes when read (an open transaction's age), stamped before serving.
        self.refresh = refresh or (lambda entity, row: None)

    def collection(
        self, entity: EntitySet, request: ODataRequest, count_only: bool
    ) -> ODataResponse:
        params = request.params
        rows = self._matching(entity, request, params)
        if count_only:
            return ODataResponse(200, str(len(rows)).encode(), {"Content-Type": "text/plain"})
        skip, top = _int(params.get("$skip"), 0), _int(params.get("$top"), None)
        size = self._page_size(request)
        limit = size if top is None else min(top, size)
        window = rows[skip : skip + limit]
        select = queries.parse_select(params.get("$select", ""), entity.names)
        expand = queries.parse_expand(params.get("$expand", ""))
        doc: dict[str, Any] = {"@odata.context": _context(request.base, entity, select)}
        if params.get("$count", "").lower() == "true":
            doc["@odata.count"] = len(rows)
        doc["value"] = [self._shape(entity, r, select, expand, request) for r in window]
        taken = len(window)
        if skip + taken < len(rows) and (top is None or taken < top):
            doc["@odata.nextLink"] = _next_link(request, skip + taken, top - taken if top else None)
        headers = {}
        if size != self.page_size:
            headers["Preference-Applied"] = f"odata.maxpagesize={size}"
        return ODataResponse.of_json(200, doc, **headers)

    def single(
        self, entity: EntitySet, key_text: str, tail: str, request: ODataRequest
    ) -> ODataResponse:
        row = find(self.store, entity, key_text, request)
        if row is None:
            return not_found(request)
        self.refresh(entity, row)
        params = request.params
        if tail:
            return self._tail(entity, row, tail, request)
        select = queries.parse_select(params.get("$select", ""), entity.names)
        expand = queries.parse_expand(params.get("$expand", ""))
        doc = {"@odata.context": _context(request.base, entity, select) + "/$entity"}
        shaped = self._shape(entity, row, select, expand, request)
        doc.update(shaped)
        return ODataResponse.of_json(200, doc, ETag=shaped["@odata.etag"])

    def _tail(self, entity: EntitySet, row: Row, tail: str, request: ODataRequest) -> ODataResponse:
        nav = next((n for n in entity.navs if n.name == tail), None)
        if nav is not None:
            lines = [public(SETS[nav.target], r) for r in self._children(nav.target, nav.on, row)]
            return ODataResponse.of_json(200, {"value": lines})
        if tail in entity.names:
            context = f"{request.base}/data/$metadata#{entity.name}/{tail}"
            return ODataResponse.of_json(200, {"@odata.context": context, "value": row[tail]})
        return error(
            404, f"No HTTP resource was found that matches the request URI '{request.path}'."
        )

    def _matching(
        self, entity: EntitySet, request: ODataRequest, params: dict[str, str]
    ) -> list[Row]:
        rows = [r for r in self.store.rows(entity.name) if visible(entity, r, request)]
        for row in rows:
            self.refresh(entity, row)
        if params.get("$filter"):
            predicate = queries.parse_filter(params["$filter"], entity.names)
            rows = [r for r in rows if predicate(r)]
        order = queries.parse_orderby(params.get("$orderby", ""), entity.names)
        order = order or [(k, False) for k in entity.keys]
        for name, desc in reversed(order):
            rows.sort(key=_by(name), reverse=desc)
        return rows

    def _page_size(self, request: ODataRequest) -> int:
        prefer = request.headers.get("prefer", "")
        for part in prefer.split(","):
            name, _, value = part.strip().partition("=")
            if name == "odata.maxpagesize" and value.isdigit() and int(value) > 0:
                return min(int(value), self.page_size)
        return self.page_size

    def _shape(
        self,
        entity: EntitySet,
        row: Row,
        select: list[str],
        expand: list[tuple[str, str]],
        request: ODataRequest,
    ) -> Row:
        out = public(entity, row, select)
        for name, nested in expand:
            nav = next((n for n in entity.navs if n.name == name), None)
            if nav is None:
                raise queries.QueryError(
                    f"Could not find a property named '{name}' on type "
                    f"'Microsoft.Dynamics.DataEntities.{entity.type_name}'."
                )
            target = SETS[nav.target]
            fields = queries.parse_select(nested, target.names)
            out[name] = [public(target, r, fields) for r in self._children(nav.target, nav.on, row)]
        return out

    def _children(self, target: str, on: tuple[str, ...], row: Row) -> list[Row]:
        return [r for r in self.store.rows(target) if all(r.get(f) == row.get(f) for f in on)]


def _by(name: str) -> Callable[[Row], tuple[int, Any]]:
    return lambda row: _sortable(row.get(name))


def _sortable(value: object) -> tuple[int, Any]:
    if value is None:
        return (0, "")
    if isinstance(value, str):
        if len(value) >= 20 and value[10:11] == "T" and value.endswith("Z"):
            return (3, queries.parse_instant(value))
        return (1, value.casefold())
    return (2, value)


def _int(text: str | None, default: int | None) -> Any:
    if text is None or text == "":
        return default
    if not text.isdigit():
        raise queries.QueryError(
            f"The query specified in the URI is not valid. Bad value '{text}'."
        )
    return int(text)


def _context(base: str, entity: EntitySet, select: list[str]) -> str:
    suffix = f"({','.join(select)})" if select else ""
    return f"{base}/data/$metadata#{entity.name}{suffix}"


def _next_link(request: ODataRequest, skip: int, top: int | None) -> str:
    params = [(k, v) for k, v in request.params.items() if k not in {"$skip", "$top"}]
    if top is not None:
        params.append(("$top", str(top)))
    params.append(("$skip", str(skip)))
    query = urlencode(params, quote_via=quote, safe="$*'(),=-")
    return f"{request.base}/data/{request.path}?{query}"
