"""Query parsing: OData v4 ``$filter`` expressions, key segments and the other query options.

F&O accepts ``eq ne gt ge lt le and or not``, arithmetic, parentheses, ``'*x*'`` wildcards
inside ``eq`` (its documented "contains"), enum literals
(``Microsoft.Dynamics.DataEntities.NoYes'Yes'``) and unquoted DateTimeOffset literals; it
refuses ``in`` and ``has``. ``contains``/``startswith``/``endswith`` are accepted too.
String comparison is case-insensitive, as F&O's SQL collation is.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Callable
from datetime import datetime
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from typing import Any

Row = dict[str, Any]
Predicate = Callable[[Row], Any]


class QueryError(ValueError):
    """A query option F&O would refuse with 400; the message is the OData text."""


_TOKEN = re.compile(
    r"""\s*(?:
      (?P<str>'(?:[^']|'')*')
    | (?P<enum>[A-Za-z_][\w.]*'(?:[^']|'')*')
    | (?P<dt>\d{4}-\d\d-\d\d(?:T\d\d:\d\d(?::\d\d(?:\.\d+)?)?(?:Z|[+-]\d\d:\d\d))?)
    | (?P<num>-?\d+(?:\.\d+)?(?:[mMdDlL])?)
    | (?P<punc>[(),])
    | (?P<word>[A-Za-z_$][\w.]*)
    )""",
    re.VERBOSE,
)
_COMPARE = {"eq", "ne", "gt", "ge", "lt", "le"}
_ARITH = {"add", "sub", "mul", "div", "divby", "mod"}
_FUNCTIONS = {"contains", "startswith", "endswith", "tolower", "toupper", "trim"}


def tokenize(text: str) -> list[tuple[str, str]]:
    """Split a filter into (kind, text) tokens."""
    tokens, pos = [], 0
    text = text.strip()
    while pos < len(text):
        match = _TOKEN.match(text, pos)
        if not match or match.end() == pos:
            raise QueryError(f"Syntax error at position {pos} in '{text}'.")
        kind = match.lastgroup or ""
        tokens.append((kind, match.group(kind)))
        pos = match.end()
        while pos < len(text) and text[pos].isspace():
            pos += 1
    return tokens


@lru_cache(maxsize=65536)
def parse_instant(text: str) -> datetime:
    """An ISO-8601 instant (``Z`` or offset) as an aware datetime."""
    value = text.replace("Z", "+00:00")
    if "." in value:  # F&O writes 7 fractional digits; Python reads at most 6.
        head, _, tail = value.partition(".")
        digits = re.match(r"\d+", tail)
        frac = digits.group(0) if digits else ""
        value = f"{head}.{frac[:6].ljust(6, '0')}{tail[len(frac) :]}"
    if "T" not in value:
        value += "T00:00:00+00:00"
    return datetime.fromisoformat(value)


class _Parser:
    def __init__(self, text: str, known: frozenset[str]) -> None:
        self.tokens = tokenize(text)
        self.pos = 0
        self.known = known

    def peek(self) -> str:
        return self.tokens[self.pos][1] if self.pos < len(self.tokens) else ""

    def take(self) -> tuple[str, str]:
        if self.pos >= len(self.tokens):
            raise QueryError("Syntax error: the expression ended too early.")
        token = self.tokens[self.pos]
        self.pos += 1
        return token

    def expect(self, text: str) -> None:
        if self.take()[1] != text:
            raise QueryError(f"Syntax error: '{text}' expected.")

    def parse(self) -> Predicate:
        expr = self.or_expr()
        if self.pos != len(self.tokens):
            raise QueryError(f"Syntax error at '{self.peek()}'.")
        return expr

    def or_expr(self) -> Predicate:
        left = self.and_expr()
        while self.peek() == "or":
            self.take()
            left = _either(left, self.and_expr())
        return left

    def and_expr(self) -> Predicate:
        left = self.not_expr()
        while self.peek() == "and":
            self.take()
            left = _both(left, self.not_expr())
        return left

    def not_expr(self) -> Predicate:
        if self.peek() == "not":
            self.take()
            inner = self.not_expr()
            return lambda row: not inner(row)
        return self.comparison()

    def comparison(self) -> Predicate:
        left = self.arith()
        op = self.peek()
        if op in {"in", "has"}:
            raise QueryError(
                f"The query specified in the URI is not valid. '{op}' is not supported."
            )
        if op not in _COMPARE:
            return left
        self.take()
        right = self.arith()
        return lambda row: compare(op, left(row), right(row))

    def arith(self) -> Predicate:
        left = self.primary()
        while self.peek() in _ARITH:
            left = _arith(self.take()[1], left, self.primary())
        return left

    def primary(self) -> Predicate:
        kind, text = self.take()
        if text == "(":
            inner = self.or_expr()
            self.expect(")")
            return inner
        if kind == "word" and self.peek() == "(" and text in _FUNCTIONS:
            return self.function(text)
        value = literal(kind, text, self.known)
        if isinstance(value, _Field):
            name = value.name
            return lambda row: row.get(name)
        return lambda row: value

    def function(self, name: str) -> Predicate:
        self.expect("(")
        args = [self.or_expr()]
        while self.peek() == ",":
            self.take()
            args.append(self.or_expr())
        self.expect(")")
        return lambda row: call(name, [a(row) for a in args])


def _either(a: Predicate, b: Predicate) -> Predicate:
    return lambda row: bool(a(row)) or bool(b(row))


def _both(a: Predicate, b: Predicate) -> Predicate:
    return lambda row: bool(a(row)) and bool(b(row))


def _arith(op: str, a: Predicate, b: Predicate) -> Predicate:
    return lambda row: arithmetic(op, a(row), b(row))


class _Field:
    def __init__(self, name: str) -> None:
        self.name = name


def literal(kind: str, text: str, known: frozenset[str]) -> object:
    """The value of one literal token, or a field reference."""
    if kind == "str":
        return text[1:-1].replace("''", "'")
    if kind == "enum":
        return text[text.index("'") + 1 : -1].replace("''", "'")
    if kind == "dt":
        return parse_instant(text)
    if kind == "num":
        return Decimal(text.rstrip("mMdDlL"))
    if text in {"true", "false"}:
        return text == "true"
    if text == "null":
        return None
    if kind == "word" and text in known:
        return _Field(text)
    raise QueryError(
        f"Could not find a property named '{text}' on type 'Microsoft.Dynamics.DataEntities'."
    )


def _coerce(a: object, b: object) -> tuple[Any, Any]:
    if isinstance(a, datetime) and isinstance(b, str) and b:
        return a, parse_instant(b)
    if isinstance(b, datetime) and isinstance(a, str) and a:
        return parse_instant(a), b
    if isinstance(a, Decimal) and isinstance(b, int | float) and not isinstance(b, bool):
        return a, Decimal(str(b))
    if isinstance(b, Decimal) and isinstance(a, int | float) and not isinstance(a, bool):
        return Decimal(str(a)), b
    if isinstance(a, str) and isinstance(b, str):
        return a.casefold(), b.casefold()
    return a, b


def compare(op: str, a: object, b: object) -> bool:
    """Compare two values the way F&O's SQL does (wildcards in ``eq``, no case)."""
    if op in {"eq", "ne"} and isinstance(b, str) and "*" in b and isinstance(a, str):
        hit = fnmatch.fnmatchcase(a.casefold(), b.casefold())
        return hit if op == "eq" else not hit
    x, y = _coerce(a, b)
    if op == "eq":
        return bool(x == y)
    if op == "ne":
        return bool(x != y)
    if x is None or y is None:
        return False
    try:
        return bool({"gt": x > y, "ge": x >= y, "lt": x < y, "le": x <= y}[op])
    except TypeError:
        return False


def arithmetic(op: str, a: object, b: object) -> object:
    """Arithmetic on numbers; ``None`` when either side is not a number."""
    try:
        x, y = Decimal(str(a)), Decimal(str(b))
        if op == "add":
            return x + y
        if op == "sub":
            return x - y
        if op == "mul":
            return x * y
        if op == "mod":
            return x % y
        return x / y
    except (InvalidOperation, ArithmeticError):
        return None


def call(name: str, args: list[Any]) -> object:
    """The string functions the simulator accepts besides F&O's wildcards."""
    text = str(args[0] or "")
    other = str(args[1] or "") if len(args) > 1 else ""
    if name == "contains":
        return other.casefold() in text.casefold()
    if name == "startswith":
        return text.casefold().startswith(other.casefold())
    if name == "endswith":
        return text.casefold().endswith(other.casefold())
    if name == "tolower":
        return text.lower()
    if name == "toupper":
        return text.upper()
    return text.strip()


def parse_filter(text: str, known: frozenset[str]) -> Predicate:
    """Compile a ``$filter`` into a row predicate.

    Raises:
        QueryError: for bad syntax, unknown properties, ``in`` or ``has``.
    """
    return _Parser(text, known).parse()


def parse_orderby(text: str, known: frozenset[str]) -> list[tuple[str, bool]]:
    """``A desc,B`` → ``[("A", True), ("B", False)]``."""
    out = []
    for part in filter(None, (p.strip() for p in text.split(","))):
        name, _, direction = part.partition(" ")
        if name not in known or direction.strip() not in {"", "asc", "desc"}:
            raise QueryError(f"The query specified in the URI is not valid. Bad $orderby '{part}'.")
        out.append((name, direction.strip() == "desc"))
    return out


def parse_select(text: str, known: frozenset[str]) -> list[str]:
    """``A,B`` → ``["A", "B"]``, refusing unknown properties."""
    names = [n.strip() for n in text.split(",") if n.strip()]
    for name in names:
        if name not in known and name != "*":
            raise QueryError(
                f"Could not find a property named '{name}' on type "
                "'Microsoft.Dynamics.DataEntities'."
            )
    return names


def parse_expand(text: str) -> list[tuple[str, str]]:
    """``Lines($select=A,B)`` → ``[("Lines", "A,B")]``; a second level is refused."""
    out = []
    for match in re.finditer(r"([A-Za-z_]\w*)(?:\(([^()]*)\))?\s*(?:,|$)", text.strip()):
        name, options = match.group(1), match.group(2) or ""
        if "$expand" in options:
            raise QueryError(
                "The query specified in the URI is not valid. "
                "Only one level of $expand is supported."
            )
        select = ""
        for option in options.split(";"):
            key, _, value = option.partition("=")
            if key.strip() == "$select":
                select = value
        out.append((name, select))
    return out


_KEY_PART = re.compile(r"\s*([A-Za-z_]\w*)\s*=\s*('(?:[^']|'')*'|[^,']+)\s*(,|$)")


def parse_key(text: str, keys: tuple[str, ...]) -> dict[str, object]:
    """Read ``dataAreaId='usmf',CustomerAccount='C1'`` in any order; ``'`` doubled.

    Raises:
        QueryError: when the segment is malformed or does not name exactly the key fields.
    """
    if len(keys) == 1 and "=" not in text:
        return {keys[0]: _key_value(text.strip())}
    found: dict[str, object] = {}
    pos = 0
    while pos < len(text):
        match = _KEY_PART.match(text, pos)
        if not match:
            raise QueryError(f"Bad Request - Error in query syntax: the key '{text}' is malformed.")
        found[match.group(1)] = _key_value(match.group(2).strip())
        pos = match.end()
    if set(found) != set(keys):
        raise QueryError(
            f"The number of keys specified in the URI does not match number of key properties "
            f"for the resource: expected {', '.join(keys)}."
        )
    return found


def _key_value(text: str) -> object:
    if text.startswith("'") and text.endswith("'") and len(text) >= 2:
        return text[1:-1].replace("''", "'")
    try:
        return Decimal(text)
    except InvalidOperation:
        raise QueryError(f"Bad Request - Error in query syntax: bad key value {text}.") from None
