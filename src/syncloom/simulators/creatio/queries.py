"""Queries: ``$filter``, ``$orderby``, ``$select`` and ``$expand`` as Creatio's OData 4 reads them.

``$filter`` is tokenised and parsed by recursive descent into closures over a stored row.
Literal rules follow Creatio: GUIDs and date-times are unquoted (a quoted one is a type
mismatch, 400), lookups are reached through navigation paths (``Account/Id``; the flat
``AccountId`` fails with 500), ``in`` is refused, and an expression may have at most 100
nodes. Each comparison counts as five nodes (operator, two operands and their conversions),
which matches what tenants show: an ``or`` chain of 15 ``Id eq …`` works and 20 fail.
"""

from __future__ import annotations

import heapq
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from syncloom.simulators.creatio.entities import EMPTY_GUID, ENTITIES, Column, Entity
from syncloom.simulators.creatio.replies import (
    ODataError,
    query_invalid,
    server_error,
    unknown_property,
)
from syncloom.simulators.creatio.values import EMPTY_DATE, parse_instant

Row = dict[str, Any]
Fetch = Callable[[str, str], Row | None]
Getter = Callable[[Row, Fetch], Any]
Predicate = Callable[[Row, Fetch], bool]

MAX_NODES = 100
_TOKEN = re.compile(
    r"\s*(?:"
    r"(?P<str>'(?:[^']|'')*')"
    r"|(?P<dt>\d{4}-\d{2}-\d{2}(?:T[0-9:.]+(?:Z|[+-]\d{2}:\d{2})?)?)"
    r"|(?P<guid>[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12})"
    r"|(?P<num>-?\d+(?:\.\d+)?)[mMdDfFlL]?"
    r"|(?P<name>[A-Za-z_][A-Za-z0-9_]*(?:/[A-Za-z_][A-Za-z0-9_]*)*)"
    r"|(?P<punct>[(),])"
    r")"
)
_OPS = {
    "eq": "Equal",
    "ne": "NotEqual",
    "gt": "GreaterThan",
    "ge": "GreaterThanOrEqual",
    "lt": "LessThan",
    "le": "LessThanOrEqual",
}
_COMPARE: dict[str, Callable[[Any, Any], bool]] = {
    "eq": lambda a, b: a == b,
    "ne": lambda a, b: a != b,
    "gt": lambda a, b: a > b,
    "ge": lambda a, b: a >= b,
    "lt": lambda a, b: a < b,
    "le": lambda a, b: a <= b,
}
_FUNCTIONS: dict[str, Callable[[str, str], bool]] = {
    "contains": lambda a, b: b in a,
    "startswith": lambda a, b: a.startswith(b),
    "endswith": lambda a, b: a.endswith(b),
}
_NUMERIC = {"Edm.Int32", "Edm.Decimal"}
_EMPTIES = {"", EMPTY_GUID, EMPTY_DATE}


@dataclass(frozen=True)
class Operand:
    """A typed value source: a column path or a literal."""

    edm: str
    get: Getter
    is_literal: bool = False
    column: str | None = None  # the storage name when the operand is a column of the entity
    value: Any = None  # the value when the operand is a literal


@dataclass(frozen=True)
class Filter:
    """A compiled ``$filter``: the row test and what it says about where matches start.

    ``lower`` maps a column to a value no matching row is below (from ``Col gt|ge|eq value``
    terms), so a query ordered by that column can start at it in an index instead of
    testing every row. A missing column means no such bound.
    """

    test: Predicate
    lower: dict[str, Any]

    def __call__(self, row: Row, fetch: Fetch) -> bool:
        return self.test(row, fetch)


def tokenize(text: str) -> list[tuple[str, str]]:
    tokens: list[tuple[str, str]] = []
    pos = 0
    text = text.rstrip()
    while pos < len(text):
        match = _TOKEN.match(text, pos)
        if not match or match.end() == pos:
            raise query_invalid(f"Syntax error at position {pos} in '{text}'.")
        kind = match.lastgroup or ""
        tokens.append((kind, match.group(kind)))
        pos = match.end()
    return tokens


def resolve_path(entity: Entity, path: str, *, in_filter: bool) -> tuple[Column, Getter]:
    """Resolve ``Name``, ``AccountId`` or ``Account/Name`` to its column and a getter."""
    head, _, rest = path.partition("/")
    if rest:
        nav = entity.navigations.get(head)
        if nav is None or nav.ref is None:
            raise unknown_property(head, entity.type_name)
        column, inner = resolve_path(ENTITIES[nav.ref], rest, in_filter=in_filter)
        ref, key = nav.ref, nav.storage

        def through(row: Row, fetch: Fetch) -> Any:
            target = fetch(ref, row.get(key, EMPTY_GUID))
            return None if target is None else inner(target, fetch)

        return column, through
    found = entity.by_storage.get(head)
    if found is None:
        raise unknown_property(head, entity.type_name)
    if in_filter and found.kind == "lookup":
        raise server_error(
            "The 'ObjectContent`1' type failed to serialize the response body for content "
            "type 'application/json; charset=utf-8'.",
            f"Column by path {head} not found in schema {entity.name}.",
        )
    return found, lambda row, fetch: row.get(head)


class FilterParser:
    """Recursive-descent parser of one ``$filter`` expression against one entity."""

    def __init__(self, entity: Entity, text: str) -> None:
        self.entity = entity
        self.tokens = tokenize(text)
        self.pos = 0
        self.nodes = 0

    def parse(self) -> Filter:
        clause = self._or()
        if self.pos != len(self.tokens):
            raise query_invalid(f"Syntax error: unexpected '{self.tokens[self.pos][1]}'.")
        if self.nodes > MAX_NODES:
            raise query_invalid(f"The node count limit of '{MAX_NODES}' has been exceeded.")
        return clause

    def _peek(self) -> str:
        return self.tokens[self.pos][1] if self.pos < len(self.tokens) else ""

    def _take(self, expected: str | None = None) -> tuple[str, str]:
        if self.pos >= len(self.tokens):
            raise query_invalid("Syntax error: the expression ends too early.")
        token = self.tokens[self.pos]
        if expected is not None and token[1] != expected:
            raise query_invalid(f"Syntax error: expected '{expected}' but found '{token[1]}'.")
        self.pos += 1
        return token

    def _or(self) -> Filter:
        left = self._and()
        while self._peek() == "or":
            self._take()
            self.nodes += 1
            left = _either(left, self._and())
        return left

    def _and(self) -> Filter:
        left = self._not()
        while self._peek() == "and":
            self._take()
            self.nodes += 1
            left = _both(left, self._not())
        return left

    def _not(self) -> Filter:
        if self._peek() == "not":
            self._take()
            self.nodes += 1
            inner = self._not().test
            return Filter(lambda r, f: not inner(r, f), {})
        return self._comparison()

    def _comparison(self) -> Filter:
        if self._peek() == "(":
            self._take()
            inner = self._or()
            self._take(")")
            return inner
        left = self._operand()
        op = self._peek()
        if op == "in":
            raise query_invalid("The 'in' operator is not supported.")
        if op not in _OPS:
            if left.edm == "Edm.Boolean":
                return Filter(lambda r, f: bool(left.get(r, f)), {})
            raise query_invalid(f"Syntax error: expected a comparison operator, found '{op}'.")
        self._take()
        right = self._operand()
        self.nodes += 5
        test = _compare(op, left, right)
        lower: dict[str, Any] = {}
        if op in {"gt", "ge", "eq"} and left.column and _bounding(right):
            lower[left.column] = right.value
        return Filter(test, lower)

    def _operand(self) -> Operand:
        kind, text = self._take()
        if kind == "name" and self._peek() == "(" and text in _FUNCTIONS:
            return self._function(text)
        if kind == "name" and text not in {"null", "true", "false"}:
            column, getter = resolve_path(self.entity, text, in_filter=True)
            return Operand(column.edm, getter, column=None if "/" in text else column.storage)
        return _literal(kind, text)

    def _function(self, name: str) -> Operand:
        self._take("(")
        subject = self._operand()
        self._take(",")
        needle = self._operand()
        self._take(")")
        self.nodes += 5
        test = _FUNCTIONS[name]

        def call(row: Row, fetch: Fetch) -> bool:
            a, b = subject.get(row, fetch), needle.get(row, fetch)
            return isinstance(a, str) and isinstance(b, str) and test(a, b)

        # A function result is no literal value: it never bounds an index scan.
        return Operand("Edm.Boolean", call, is_literal=True, value=_NO_VALUE)


_NO_VALUE = object()


def _bounding(operand: Operand) -> bool:
    return operand.is_literal and operand.value is not None and operand.value is not _NO_VALUE


def _either(a: Filter, b: Filter) -> Filter:
    x, y = a.test, b.test
    # A row matching either side is above the lower of the two bounds.
    lower = {}
    for column in a.lower.keys() & b.lower.keys():
        try:
            lower[column] = min(a.lower[column], b.lower[column])
        except TypeError:
            continue
    return Filter(lambda row, fetch: x(row, fetch) or y(row, fetch), lower)


def _both(a: Filter, b: Filter) -> Filter:
    x, y = a.test, b.test
    # A row matching both sides is above both bounds: keep the higher one.
    lower = {**a.lower, **b.lower}
    for column in a.lower.keys() & b.lower.keys():
        try:
            lower[column] = max(a.lower[column], b.lower[column])
        except TypeError:
            lower[column] = a.lower[column]
    return Filter(lambda row, fetch: x(row, fetch) and y(row, fetch), lower)


def _literal(kind: str, text: str) -> Operand:
    value: Any
    if kind == "str":
        value, edm = text[1:-1].replace("''", "'"), "Edm.String"
    elif kind == "guid":
        value, edm = text.lower(), "Edm.Guid"
    elif kind == "dt":
        value, edm = parse_instant(text), "Edm.DateTimeOffset"
        if value is None:
            raise query_invalid(f"Unrecognized 'Edm.DateTimeOffset' literal '{text}'.")
    elif kind == "num":
        value = float(text) if "." in text else int(text)
        edm = "Edm.Decimal" if "." in text else "Edm.Int32"
    elif text in {"true", "false"}:
        value, edm = text == "true", "Edm.Boolean"
    elif text == "null":
        value, edm = None, "null"
    else:
        raise query_invalid(f"Syntax error: unexpected '{text}'.")
    return Operand(edm, lambda r, f: value, is_literal=True, value=value)


def _compatible(a: str, b: str) -> bool:
    return a == b or "null" in (a, b) or (a in _NUMERIC and b in _NUMERIC)


def _compare(op: str, left: Operand, right: Operand) -> Predicate:
    if not _compatible(left.edm, right.edm):
        raise query_invalid(
            "A binary operator with incompatible types was detected. Found operand types "
            f"'{left.edm}' and '{right.edm}' for operator kind '{_OPS[op]}'."
        )
    test = _COMPARE[op]
    nullable = "null" in (left.edm, right.edm)

    def check(row: Row, fetch: Fetch) -> bool:
        a, b = left.get(row, fetch), right.get(row, fetch)
        if nullable:
            a = None if a in _EMPTIES else a
            b = None if b in _EMPTIES else b
            return test(a, b) if op in {"eq", "ne"} else False
        if a is None or b is None:
            return op == "ne" and a != b
        return bool(test(a, b))

    return check


def parse_filter(entity: Entity, text: str) -> Filter:
    """Compile ``$filter`` text, raising :class:`ODataError` the way Creatio does.

    The result is called like a predicate; its ``lower`` bounds let an ordered index skip
    rows no match can be among.
    """
    return FilterParser(entity, text).parse()


def split_top(text: str) -> list[str]:
    """Split on commas outside parentheses."""
    parts, depth, current = [], 0, ""
    for char in text:
        depth += (char == "(") - (char == ")")
        if char == "," and depth == 0:
            parts.append(current.strip())
            current = ""
        else:
            current += char
    if current.strip():
        parts.append(current.strip())
    return parts


def parse_orderby(entity: Entity, text: str) -> list[tuple[Getter, bool]]:
    """``A asc, B/Name desc`` as (getter, descending) pairs."""
    keys = []
    for part in split_top(text):
        path, _, direction = part.partition(" ")
        direction = direction.strip().lower() or "asc"
        if direction not in {"asc", "desc"}:
            raise query_invalid(f"Syntax error in $orderby at '{part}'.")
        _, getter = resolve_path(entity, path.strip(), in_filter=False)
        keys.append((getter, direction == "desc"))
    return keys


def index_order(entity: Entity, text: str) -> list[str] | None:
    """The storage columns of an all-ascending ``$orderby`` of the entity's own columns.

    ``None`` when an ordered index cannot serve it (a descending key, a navigation path);
    call :func:`parse_orderby` first, which reports bad text.
    """
    columns = []
    for part in split_top(text):
        path, _, direction = part.partition(" ")
        column = entity.by_storage.get(path.strip())
        if column is None or "/" in path or direction.strip().lower() not in {"", "asc"}:
            return None
        columns.append(column.storage)
    return columns


def row_order(columns: list[str]) -> Callable[[Row], tuple[Any, ...]]:
    """The sort key of a row by ``columns``, as :func:`order_rows` sorts it."""
    return lambda row: tuple(_sort_key(row.get(c)) for c in columns)


def bound_key(value: Any) -> tuple[Any, ...]:
    """A lower bound on a first sort column as a prefix of :func:`row_order` keys."""
    return (_sort_key(value),)


def parse_select(entity: Entity, text: str) -> list[str]:
    names = [n.strip() for n in text.split(",") if n.strip()]
    for name in names:
        column = entity.by_storage.get(name)
        if column is None:
            raise unknown_property(name, entity.type_name)
        if column.kind == "stream":
            raise server_error("Value cannot be null.\r\nParameter name: property")
    return names


def parse_expand(entity: Entity, text: str) -> list[tuple[Column, list[str] | None]]:
    """``Account($select=Name),Owner`` as (navigation column, nested select) pairs."""
    out: list[tuple[Column, list[str] | None]] = []
    for part in split_top(text):
        name, _, nested = part.partition("(")
        nav = entity.navigations.get(name.strip())
        if nav is None or nav.ref is None:
            raise unknown_property(name.strip(), entity.type_name)
        select = None
        if nested:
            option, _, value = nested.rstrip(")").partition("=")
            if option.strip() != "$select":
                raise query_invalid(f"Only $select is supported inside $expand, not '{option}'.")
            select = parse_select(ENTITIES[nav.ref], value)
        out.append((nav, select))
    return out


def order_rows(
    rows: list[Row], keys: list[tuple[Getter, bool]], fetch: Fetch, limit: int | None = None
) -> list[Row]:
    """Stable multi-key sort; rows without a value sort first; only ``limit`` rows if given.

    With ascending keys and a limit (a ``$top`` page) a heap selects the first rows, so
    paging through a large table does not sort all of it for every page.
    """
    if limit is not None and not any(descending for _, descending in keys):
        getters = [getter for getter, _ in keys]
        return heapq.nsmallest(
            limit, rows, key=lambda row: tuple(_sort_key(g(row, fetch)) for g in getters)
        )
    for getter, descending in reversed(keys):

        def key(row: Row, get: Getter = getter) -> tuple[int, Any]:
            return _sort_key(get(row, fetch))

        rows.sort(key=key, reverse=descending)
    return rows


def _sort_key(value: Any) -> tuple[int, Any]:
    return (0, 0) if value is None else (1, value)


__all__ = [
    "Filter",
    "ODataError",
    "bound_key",
    "index_order",
    "order_rows",
    "parse_expand",
    "parse_filter",
    "parse_orderby",
    "parse_select",
    "row_order",
]
