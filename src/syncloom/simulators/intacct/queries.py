"""Query evaluation: the ``<filter>`` tree of ``query`` and the SQL-like ``readByQuery`` string.

Both compile into a predicate over stored rows. Values compare by the field's ``DATATYPE``
(numbers as decimals, dates and timestamps as instants), strings case-sensitively unless the
query asks for ``caseinsensitive``.
"""

from __future__ import annotations

import functools
import operator
import re
from collections.abc import Callable
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from lxml import etree

from syncloom.simulators.common.store import Row
from syncloom.simulators.intacct.entities import ObjectDef
from syncloom.simulators.intacct.wire import FunctionFailure, IntacctError, support_id

Predicate = Callable[[Row], bool]
COMPARISONS: dict[str, Callable[[Any, Any], bool]] = {
    "equalto": operator.eq,
    "notequalto": operator.ne,
    "lessthan": operator.lt,
    "lessthanorequalto": operator.le,
    "greaterthan": operator.gt,
    "greaterthanorequalto": operator.ge,
}
SQL_OPS = {"=": "equalto", "!=": "notequalto", "<>": "notequalto", "<": "lessthan"}
SQL_OPS |= {"<=": "lessthanorequalto", ">": "greaterthan", ">=": "greaterthanorequalto"}


def query_failed(description2: str, errorno: str = "Query Failed") -> FunctionFailure:
    return FunctionFailure([IntacctError(errorno, description2)])


def invalid_field(obj: ObjectDef, name: str) -> FunctionFailure:
    return FunctionFailure(
        [
            IntacctError(
                "XL03000010",
                f"Field requested is not valid: {obj.name.lower()}.{name} "
                f"[Support ID: {support_id()}]",
            )
        ]
    )


def sort_key(obj: ObjectDef, name: str, raw: object, fold: bool = False) -> tuple[int, Any]:
    """A comparable form of a wire value, by the field's datatype."""
    value = "" if raw is None else str(raw)
    kind = obj.kind(name)
    if value == "":
        return (0, "")
    if kind in {"INTEGER", "DECIMAL", "CURRENCY", "PERCENT"}:
        try:
            return (1, Decimal(value))
        except InvalidOperation:
            return (2, value)
    if kind in {"DATE", "TIMESTAMP"}:
        return _instant(value)
    return (1, value.lower() if fold else value)


@functools.lru_cache(maxsize=65536)
def _instant(value: str) -> tuple[int, Any]:
    # Cached: a change scan compares every row's WHENMODIFIED, and many rows share one.
    for fmt in ("%m/%d/%Y %H:%M:%S", "%m/%d/%Y"):
        try:
            return (1, datetime.strptime(value, fmt))  # noqa: DTZ007 - company wall clock
        except ValueError:
            continue
    return (2, value)


def compile_filter(obj: ObjectDef, node: etree._Element, fold: bool) -> Predicate:
    """Compile one ``<filter>`` operator element into a row predicate.

    Raises:
        FunctionFailure: for unknown operators, fields, or wrong operand counts.
    """
    op = node.tag
    if op in {"and", "or"}:
        kids = [compile_filter(obj, kid, fold) for kid in node if isinstance(kid.tag, str)]
        if len(kids) < 2:
            raise query_failed(f"The '{op}' operator requires at least two conditions.")
        return (
            (lambda r: all(k(r) for k in kids))
            if op == "and"
            else (lambda r: any(k(r) for k in kids))
        )
    name = (node.findtext("field") or "").strip()
    if not obj.has(name):
        raise invalid_field(obj, name)
    values = [(v.text or "").strip() for v in node.findall("value")]
    return _leaf(obj, op, name, values, fold)


class Leaf:
    """One field condition: the field's comparable form of each row, and the operands."""

    def __init__(self, obj: ObjectDef, name: str, values: list[str], fold: bool) -> None:
        self.obj, self.name, self.values, self.fold = obj, name, values, fold

    def key(self, raw: object) -> Any:
        return sort_key(self.obj, self.name, raw, self.fold)

    def of(self, row: Row) -> Any:
        return self.key(row.get(self.name))

    def need(self, low: int, high: int, op: str) -> None:
        if not low <= len(self.values) <= high:
            raise query_failed(f"The '{op}' operator requires {low} to {high} values.")


def _compare(leaf: Leaf, op: str) -> Predicate:
    leaf.need(1, 1, op)
    target, compare = leaf.key(leaf.values[0]), COMPARISONS[op]
    return lambda r: bool(compare(leaf.of(r), target))


def _between(leaf: Leaf, op: str) -> Predicate:
    leaf.need(2, 2, op)
    low, high = leaf.key(leaf.values[0]), leaf.key(leaf.values[1])
    return lambda r: bool(low <= leaf.of(r) <= high)


def _in(leaf: Leaf, op: str) -> Predicate:
    leaf.need(1, 1000, op)
    wanted = {leaf.key(v) for v in leaf.values}
    negate = op == "notin"
    return lambda r: (leaf.of(r) in wanted) != negate


def _like(leaf: Leaf, op: str) -> Predicate:
    leaf.need(1, 1, op)
    regex = "".join(
        ".*" if ch == "%" else "." if ch == "_" else re.escape(ch) for ch in leaf.values[0]
    )
    pattern = re.compile(f"^{regex}$", re.IGNORECASE if leaf.fold else 0)
    negate = op == "notlike"
    return lambda r: bool(pattern.match(str(r.get(leaf.name) or ""))) != negate


def _null(leaf: Leaf, op: str) -> Predicate:
    negate = op == "isnotnull"
    return lambda r: (r.get(leaf.name) in (None, "")) != negate


BUILDERS: dict[str, Callable[[Leaf, str], Predicate]] = {
    **dict.fromkeys(COMPARISONS, _compare),
    "between": _between,
    "in": _in,
    "notin": _in,
    "like": _like,
    "notlike": _like,
    "isnull": _null,
    "isnotnull": _null,
}


def _leaf(obj: ObjectDef, op: str, name: str, values: list[str], fold: bool) -> Predicate:
    builder = BUILDERS.get(op)
    if builder is None:
        raise query_failed(f"Unknown filter operator '{op}'.")
    return builder(Leaf(obj, name, values, fold), op)


# -- readByQuery strings -------------------------------------------------------------------
_TOKEN = re.compile(
    r"\s*(?:(?P<str>'(?:\\.|[^'\\])*')|(?P<op><>|!=|<=|>=|=|<|>)|(?P<paren>[(),])"
    r"|(?P<word>[A-Za-z0-9_.\-]+))"
)


def _tokens(text: str) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    pos = 0
    while pos < len(text.rstrip()):
        match = _TOKEN.match(text, pos)
        if not match or match.end() == pos:
            raise _bad_query()
        kind = match.lastgroup or ""
        value = match.group(kind)
        if kind == "str":
            value = value[1:-1].replace("\\'", "'")
        out.append((kind, value))
        pos = match.end()
    return out


def _bad_query() -> FunctionFailure:
    return FunctionFailure(
        [IntacctError("DL02000001", "There was an error processing the request.", "Error")]
    )


class SqlFilter:
    """Recursive-descent parser of the readByQuery grammar (OR < AND < NOT < comparison)."""

    def __init__(self, obj: ObjectDef, text: str) -> None:
        self.obj = obj
        self.tokens = _tokens(text)
        self.pos = 0

    def parse(self) -> Predicate:
        if not self.tokens:
            return lambda r: True
        pred = self._or()
        if self.pos != len(self.tokens):
            raise _bad_query()
        return pred

    def _peek(self, upper: bool = True) -> str:
        if self.pos >= len(self.tokens):
            return ""
        kind, value = self.tokens[self.pos]
        return value.upper() if upper and kind == "word" else value

    def _take(self) -> tuple[str, str]:
        if self.pos >= len(self.tokens):
            raise _bad_query()
        self.pos += 1
        return self.tokens[self.pos - 1]

    def _or(self) -> Predicate:
        parts = [self._and()]
        while self._peek() == "OR":
            self._take()
            parts.append(self._and())
        return parts[0] if len(parts) == 1 else (lambda r: any(p(r) for p in parts))

    def _and(self) -> Predicate:
        parts = [self._not()]
        while self._peek() == "AND":
            self._take()
            parts.append(self._not())
        return parts[0] if len(parts) == 1 else (lambda r: all(p(r) for p in parts))

    def _not(self) -> Predicate:
        if self._peek() == "NOT":
            self._take()
            inner = self._not()
            return lambda r: not inner(r)
        if self._peek() == "(":
            self._take()
            inner = self._or()
            if self._take()[1] != ")":
                raise _bad_query()
            return inner
        return self._comparison()

    def _comparison(self) -> Predicate:
        kind, name = self._take()
        if kind != "word":
            raise _bad_query()
        if not self.obj.has(name):
            raise invalid_field(self.obj, name)
        word = self._peek()
        if word == "IS":
            self._take()
            negate = self._peek() == "NOT" and bool(self._take())
            if self._peek() != "NULL":
                raise _bad_query()
            self._take()
            return _leaf(self.obj, "isnotnull" if negate else "isnull", name, [], False)
        negate = word == "NOT" and bool(self._take())
        word = self._peek()
        if word in {"LIKE", "IN"}:
            self._take()
            values = [self._value()] if word == "LIKE" else self._list()
            op = ("not" if negate else "") + word.lower()
            return _leaf(self.obj, op, name, _status(name, values), False)
        op_kind, op = self._take()
        if negate or op_kind != "op":
            raise _bad_query()
        return _leaf(self.obj, SQL_OPS[op], name, _status(name, [self._value()]), False)

    def _value(self) -> str:
        kind, value = self._take()
        if kind not in {"str", "word"}:
            raise _bad_query()
        return _sql_value(value)

    def _list(self) -> list[str]:
        if self._take()[1] != "(":
            raise _bad_query()
        values = [self._value()]
        while self._peek() == ",":
            self._take()
            values.append(self._value())
        if self._take()[1] != ")":
            raise _bad_query()
        return values


def _sql_value(value: str) -> str:
    # Inside readByQuery strings booleans and STATUS travel as 'T'/'F'.
    return {"T": "true", "F": "false"}.get(value, value)


def _status(name: str, values: list[str]) -> list[str]:
    if name != "STATUS":
        return values
    return [{"true": "active", "false": "inactive"}.get(v, v) for v in values]
