"""Expressions: the small, sandboxed language of filters and field transforms.

How can a flow document compute a value without running arbitrary code? It writes a Python-like
expression (``upper(trim(Name))``, ``Amount * 2 if Kind == 'B' else Amount``) that is parsed
and checked when the configuration loads against a whitelist of syntax, the names it may read
and the functions of a :class:`~syncloom.engine.transforms.TransformTable`. There is no
attribute access, no subscripting beyond ``x[0]``, no comprehension, lambda or keyword argument,
and powers, numbers and texts are bounded, so hostile input is refused, not run.
"""

from __future__ import annotations

import ast
import operator
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field
from decimal import Decimal, DivisionByZero, InvalidOperation

from syncloom.connectors.base import Values
from syncloom.engine.transforms import MAX_TEXT, TransformTable
from syncloom.errors import ConfigError, MappingError

__all__ = ["VALUE", "Expression", "ExpressionError", "Scope"]

VALUE = "value"
"""The name under which a field transform sees the value of its own source field."""

MAX_SOURCE = 2_000
MAX_NODES = 200
MAX_EXPONENT = 64
MAX_INT_BITS = 512
LOOKUP = "lookup"

_BINARY: dict[type[ast.operator], Callable[..., object]] = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
    ast.FloorDiv: operator.floordiv,
    ast.Mod: operator.mod,
    ast.Pow: operator.pow,
}
_COMPARE: dict[type[ast.cmpop], Callable[..., object]] = {
    ast.Eq: operator.eq,
    ast.NotEq: operator.ne,
    ast.Lt: operator.lt,
    ast.LtE: operator.le,
    ast.Gt: operator.gt,
    ast.GtE: operator.ge,
    ast.In: lambda a, b: operator.contains(b, a),
    ast.NotIn: lambda a, b: not operator.contains(b, a),
}
_ALLOWED = (
    ast.Expression,
    ast.Constant,
    ast.Name,
    ast.Load,
    ast.BinOp,
    ast.UnaryOp,
    ast.BoolOp,
    ast.Compare,
    ast.IfExp,
    ast.Call,
    ast.List,
    ast.Tuple,
    ast.Subscript,
    ast.And,
    ast.Or,
    ast.Not,
    ast.USub,
    ast.UAdd,
    *_BINARY,
    *_COMPARE,
)


class ExpressionError(ConfigError):
    """An expression in the configuration is malformed or uses something not allowed."""


@dataclass(frozen=True, slots=True)
class Scope:
    """What an expression can see while it runs.

    Attributes:
        values: the source record's values, readable by field name.
        value: the value of the field being transformed (the name ``value``).
        lookups: value maps by name, for ``lookup('countries', value)``.
    """

    values: Values
    value: object = None
    lookups: Mapping[str, Callable[[object], object]] = field(default_factory=dict)


def _refuse(node: ast.AST, why: str) -> ExpressionError:
    return ExpressionError(f"{why} (column {getattr(node, 'col_offset', 0) + 1})")


@dataclass(frozen=True, slots=True)
class Expression:
    """A checked expression, ready to evaluate many times.

    Example::

        expr = Expression.compile("upper(value)", functions=TransformTable.builtins())
        expr.evaluate(Scope(values={}, value="acme"))  # "ACME"
    """

    source: str
    tree: ast.Expression
    functions: TransformTable
    names: frozenset[str]

    @classmethod
    def compile_transform(
        cls,
        source: str,
        *,
        functions: TransformTable,
        names: Collection[str] | None = None,
        lookups: Collection[str] | None = None,
    ) -> Expression:
        """Compile a field transform, where a bare function name means ``name(value)``.

        Raises:
            ExpressionError: as :meth:`compile`.
        """
        text = source.strip()
        if text.isidentifier() and text in functions:
            text = f"{text}({VALUE})"
        return cls.compile(text, functions=functions, names=names, lookups=lookups)

    @classmethod
    def compile(
        cls,
        source: str,
        *,
        functions: TransformTable,
        names: Collection[str] | None = None,
        lookups: Collection[str] | None = None,
    ) -> Expression:
        """Parse and check ``source``.

        Args:
            source: the expression text.
            functions: the only functions it may call.
            names: the field names it may read besides ``value``; ``None`` allows any
                plain identifier (unknown fields read as ``None``).
            lookups: value-map names ``lookup`` may name; ``None`` skips the check.

        Raises:
            ExpressionError: on a syntax error or anything outside the whitelist.
        """
        if len(source) > MAX_SOURCE:
            raise ExpressionError(f"expression longer than {MAX_SOURCE} characters")
        try:
            tree = ast.parse(source.strip(), mode="eval")
        except SyntaxError as exc:
            raise ExpressionError(f"syntax error: {exc.msg} (column {exc.offset})") from exc
        nodes = list(ast.walk(tree))
        if len(nodes) > MAX_NODES:
            raise ExpressionError(f"expression has more than {MAX_NODES} parts")
        callees = {id(n.func) for n in nodes if isinstance(n, ast.Call)}
        for node in nodes:
            if id(node) not in callees:
                _check_node(node, functions, names, lookups)
        used = frozenset(n.id for n in nodes if isinstance(n, ast.Name) and id(n) not in callees)
        return cls(source, tree, functions, used)

    def evaluate(self, scope: Scope, *, field: str | None = None) -> object:
        """Evaluate against ``scope``.

        Raises:
            MappingError: naming ``field`` when a value cannot be computed.
        """
        try:
            return _Evaluator(self.functions, scope).visit(self.tree.body)
        except MappingError:
            raise
        except (ArithmeticError, ValueError, TypeError, IndexError, InvalidOperation) as exc:
            raise MappingError(f"{self.source!r} failed: {exc}", field=field) from exc


def _check_node(
    node: ast.AST,
    functions: TransformTable,
    names: Collection[str] | None,
    lookups: Collection[str] | None,
) -> None:
    if isinstance(node, ast.Attribute):
        raise _refuse(node, "attribute access is not allowed")
    if not isinstance(node, _ALLOWED):
        raise _refuse(node, f"{type(node).__name__} is not allowed")
    if isinstance(node, ast.Constant):
        _check_constant(node)
    elif isinstance(node, ast.Call):
        _check_call(node, functions, lookups)
    elif isinstance(node, ast.Name):
        _check_name(node, functions, names)


def _check_constant(node: ast.Constant) -> None:
    if not isinstance(node.value, str | int | float | bool | type(None)):
        raise _refuse(node, f"a {type(node.value).__name__} literal is not allowed")
    if isinstance(node.value, str) and len(node.value) > MAX_TEXT:
        raise _refuse(node, "text literal too long")


def _check_name(node: ast.Name, functions: TransformTable, names: Collection[str] | None) -> None:
    if node.id.startswith("_"):
        raise _refuse(node, f"name {node.id!r} is not allowed")
    if node.id in functions:
        raise _refuse(node, f"{node.id!r} is a function; call it: {node.id}(...)")
    if node.id == VALUE or names is None or node.id in names:
        return
    raise _refuse(node, f"unknown name {node.id!r}")


def _check_call(node: ast.Call, functions: TransformTable, lookups: Collection[str] | None) -> None:
    if node.keywords or any(isinstance(a, ast.Starred) for a in node.args):
        raise _refuse(node, "only plain positional arguments are allowed")
    if not isinstance(node.func, ast.Name):
        raise _refuse(node, "only named functions may be called")
    name, count = node.func.id, len(node.args)
    if name == LOOKUP:
        _check_lookup(node, lookups)
        return
    transform = functions.get(name)
    if transform is None:
        raise _refuse(node, f"unknown function {name!r}")
    if not transform.accepts(count):
        raise _refuse(node, f"{name}() does not take {count} arguments")


def _check_lookup(node: ast.Call, lookups: Collection[str] | None) -> None:
    first = node.args[0] if len(node.args) == 2 else None
    if not (isinstance(first, ast.Constant) and isinstance(first.value, str)):
        raise _refuse(node, "lookup() takes a value-map name in quotes and a value")
    if lookups is not None and first.value not in lookups:
        raise _refuse(node, f"unknown value map {first.value!r}")


class _Evaluator:
    """Walks a checked tree; only the node kinds admitted by ``_check_node`` reach it."""

    def __init__(self, functions: TransformTable, scope: Scope) -> None:
        self.functions = functions
        self.scope = scope

    def visit(self, node: ast.expr) -> object:
        method: Callable[[ast.expr], object] = getattr(self, "visit_" + type(node).__name__)
        return method(node)

    def visit_Constant(self, node: ast.Constant) -> object:  # noqa: N802
        # Money must not pick up binary float noise: 1.1 in a flow document means Decimal 1.1.
        return Decimal(repr(node.value)) if isinstance(node.value, float) else node.value

    def visit_Name(self, node: ast.Name) -> object:  # noqa: N802
        if node.id == VALUE:
            return self.scope.value
        return self.scope.values.get(node.id)

    def visit_List(self, node: ast.List) -> object:  # noqa: N802
        return [self.visit(e) for e in node.elts]

    def visit_Tuple(self, node: ast.Tuple) -> object:  # noqa: N802
        return tuple(self.visit(e) for e in node.elts)

    def visit_Subscript(self, node: ast.Subscript) -> object:  # noqa: N802
        container, index = self.visit(node.value), self.visit(node.slice)
        if not isinstance(container, list | tuple | str) or not isinstance(index, int):
            raise TypeError("only text or lines can be indexed, by a whole number")
        return container[index] if -len(container) <= index < len(container) else None

    def visit_UnaryOp(self, node: ast.UnaryOp) -> object:  # noqa: N802
        operand = self.visit(node.operand)
        if isinstance(node.op, ast.Not):
            return not operand
        number = _number(operand)
        return -number if isinstance(node.op, ast.USub) else +number

    def visit_BoolOp(self, node: ast.BoolOp) -> object:  # noqa: N802
        result: object = isinstance(node.op, ast.And)
        for value in node.values:
            result = self.visit(value)
            if bool(result) is isinstance(node.op, ast.Or):
                return result
        return result

    def visit_IfExp(self, node: ast.IfExp) -> object:  # noqa: N802
        return self.visit(node.body) if self.visit(node.test) else self.visit(node.orelse)

    def visit_Compare(self, node: ast.Compare) -> object:  # noqa: N802
        left = self.visit(node.left)
        for op, right_node in zip(node.ops, node.comparators, strict=True):
            right = self.visit(right_node)
            if not _COMPARE[type(op)](*_aligned(left, right)):
                return False
            left = right
        return True

    def visit_BinOp(self, node: ast.BinOp) -> object:  # noqa: N802
        left, right = _aligned(self.visit(node.left), self.visit(node.right))
        _guard_size(node.op, left, right)
        try:
            result = _BINARY[type(node.op)](left, right)
        except DivisionByZero as exc:
            raise ZeroDivisionError("division by zero") from exc
        if isinstance(result, int) and result.bit_length() > MAX_INT_BITS:
            raise OverflowError("number too large")
        if isinstance(result, str | list | tuple) and len(result) > MAX_TEXT:
            raise OverflowError("text too long")
        return result

    def visit_Call(self, node: ast.Call) -> object:  # noqa: N802
        assert isinstance(node.func, ast.Name)
        args = [self.visit(a) for a in node.args]
        if node.func.id == LOOKUP:
            table = self.scope.lookups.get(str(args[0]))
            if table is None:
                raise MappingError(f"value map {args[0]!r} is not loaded")
            return table(args[1])
        return self.functions[node.func.id].function(*args)


def _number(value: object) -> int | Decimal:
    if isinstance(value, bool) or not isinstance(value, int | Decimal):
        raise TypeError(f"expected a number, got {type(value).__name__}")
    return value


def _aligned(left: object, right: object) -> tuple[object, object]:
    """Bring float and Decimal operands to Decimal, so mixed arithmetic does not fail."""
    if isinstance(left, float) and isinstance(right, Decimal):
        return Decimal(repr(left)), right
    if isinstance(right, float) and isinstance(left, Decimal):
        return left, Decimal(repr(right))
    return left, right


def _len_of(value: object) -> int:
    return len(value) if isinstance(value, str | list | tuple) else 0


def _guard_size(op: ast.operator, left: object, right: object) -> None:
    if isinstance(op, ast.Pow):
        exponent: int | Decimal = right if isinstance(right, int | Decimal) else MAX_EXPONENT + 1
        if not -MAX_EXPONENT <= exponent <= MAX_EXPONENT:
            raise OverflowError(f"exponent above {MAX_EXPONENT}")
    elif isinstance(op, ast.Mult):
        for seq, times in ((left, right), (right, left)):
            too_long = isinstance(times, int) and _len_of(seq) * times > MAX_TEXT
            if isinstance(seq, str | list | tuple) and too_long:
                raise OverflowError("text too long")
