"""Mapper: translating a record's values from one system's fields to the other's.

How does a record become the other system's payload? Either a code-defined :class:`Mapper`
(OCA style: ``direct`` pairs, ``@mapping`` methods, ``@changed_by``, ``@only_create``) or a
:class:`FieldMapMapper` built from a flow's field map. Both answer
``map(values, for_create=, changed_fields=, direction=)`` with a dict of target fields, and
both raise :class:`~syncloom.errors.MappingError` naming the field for a value they cannot
translate, never ``KeyError`` or ``TypeError``.

Example::

    class AccountMapper(Mapper):
        direct = [("Name", "CustomerName"), (convert("Amount", Decimal), "Total")]

        @only_create
        @mapping
        def customer_id(self, values: Values) -> dict[str, object]:
            return {"CustomerId": f"C-{values['Code']}"}
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from decimal import InvalidOperation
from typing import ClassVar, Protocol, TypeVar

from syncloom.connectors.base import Values
from syncloom.engine.expressions import Expression, ExpressionError, Scope
from syncloom.engine.flows import FieldDirection, FieldMap, Flow, ValueMap
from syncloom.engine.transforms import TransformTable
from syncloom.errors import ConfigError, MappingError

__all__ = [
    "FieldMapMapper",
    "FieldRule",
    "Mapper",
    "Modifier",
    "RecordMapper",
    "changed_by",
    "convert",
    "mapping",
    "none",
    "only_create",
]

_TRANSLATABLE = (KeyError, TypeError, ValueError, ArithmeticError, InvalidOperation, IndexError)
_MAPPING = "_syncloom_mapping"
_CHANGED_BY = "_syncloom_changed_by"
_ONLY_CREATE = "_syncloom_only_create"

F = TypeVar("F", bound=Callable[..., object])


class RecordMapper(Protocol):
    """What the record job needs from any mapper."""

    def map(
        self,
        values: Values,
        *,
        for_create: bool = False,
        changed_fields: Collection[str] | None = None,
        direction: FieldDirection = FieldDirection.TO_TARGET,
    ) -> dict[str, object]:
        """Translate ``values``; ``changed_fields=None`` means every field counts as changed."""
        ...


@dataclass(frozen=True, slots=True)
class Modifier:
    """A source field wrapped with a function applied to its value (``convert``, ``none``)."""

    source: str
    function: Callable[[object], object]

    def read(self, values: Values) -> object:
        """Read the source field and apply the function."""
        return self.function(values.get(self.source))


def convert(source: str, to: Callable[[object], object]) -> Modifier:
    """Read ``source`` and convert it with ``to`` (``None`` stays ``None``).

    Example::

        direct = [(convert("Amount", Decimal), "Total")]
    """
    return Modifier(source, lambda value: None if value is None else to(value))


def none(source: str) -> Modifier:
    """Read ``source``, turning falsy values (``""``, ``0``, ``False``) into ``None``."""
    return Modifier(source, lambda value: value or None)


def mapping(method: F) -> F:
    """Mark a method ``(self, values) -> dict | None`` as a mapping of the mapper."""
    setattr(method, _MAPPING, True)
    return method


def changed_by(*fields: str) -> Callable[[F], F]:
    """Run the mapping only when one of ``fields`` changed (or on a full map)."""

    def mark(method: F) -> F:
        setattr(method, _CHANGED_BY, frozenset(fields))
        return method

    return mark


def only_create(method: F) -> F:
    """Run the mapping only when the target record is being created."""
    setattr(method, _ONLY_CREATE, True)
    return method


def _source_name(source: str | Modifier) -> str:
    return source if isinstance(source, str) else source.source


class Mapper:
    """How is a record translated in code? Subclass this and declare the mapping.

    Contract: ``direct`` holds ``(source, target)`` pairs where source is a field name or a
    :class:`Modifier`; each method marked :func:`mapping` returns a dict fragment (or ``None``).
    Any failure while computing a value is raised as :class:`MappingError` naming the field.

    Example::

        class ContactMapper(Mapper):
            direct = [("Email", "EmailAddress"), (none("Phone"), "PhoneNo")]

            @changed_by("FirstName", "LastName")
            @mapping
            def full_name(self, values: Values) -> dict[str, object]:
                return {"Name": f"{values['FirstName']} {values['LastName']}"}
    """

    direct: ClassVar[Sequence[tuple[str | Modifier, str]]] = ()
    direction: ClassVar[FieldDirection] = FieldDirection.TO_TARGET
    _mappings: ClassVar[tuple[str, ...]] = ()

    def __init_subclass__(cls) -> None:
        super().__init_subclass__()
        names: dict[str, None] = {}
        for klass in reversed(cls.__mro__):
            for name, member in vars(klass).items():
                if callable(member) and getattr(member, _MAPPING, False):
                    names[name] = None
        cls._mappings = tuple(names)

    def map(
        self,
        values: Values,
        *,
        for_create: bool = False,
        changed_fields: Collection[str] | None = None,
        direction: FieldDirection = FieldDirection.TO_TARGET,
    ) -> dict[str, object]:
        """Translate ``values`` into the target's fields.

        Args:
            values: the source record's values.
            for_create: True when the target record will be created.
            changed_fields: source fields changed since the last sync; ``None`` means all.
            direction: must be this mapper's own direction.

        Raises:
            MappingError: naming the field whose value cannot be translated.
            ConfigError: when asked for a direction this mapper does not map.
        """
        if direction is not self.direction:
            raise ConfigError(f"{type(self).__name__} maps {self.direction}, not {direction}")
        result: dict[str, object] = {}
        for source, target in self.direct:
            if changed_fields is None or _source_name(source) in changed_fields:
                result[target] = self._read(source, target, values)
        for name in self._mappings:
            method = getattr(self, name)
            if self._applies(method, for_create, changed_fields):
                result.update(self._run(name, method, values))
        return result

    @staticmethod
    def _applies(
        method: Callable[..., object], for_create: bool, changed_fields: Collection[str] | None
    ) -> bool:
        if getattr(method, _ONLY_CREATE, False) and not for_create:
            return False
        fields: frozenset[str] | None = getattr(method, _CHANGED_BY, None)
        return changed_fields is None or fields is None or bool(fields & set(changed_fields))

    @staticmethod
    def _read(source: str | Modifier, target: str, values: Values) -> object:
        if isinstance(source, str):
            return values.get(source)
        try:
            return source.read(values)
        except _TRANSLATABLE as exc:
            raise MappingError(f"cannot translate {source.source}: {exc}", field=target) from exc

    @staticmethod
    def _run(name: str, method: Callable[[Values], object], values: Values) -> Mapping[str, object]:
        try:
            fragment = method(values)
        except MappingError:
            raise
        except _TRANSLATABLE as exc:
            raise MappingError(f"mapping {name} failed: {exc!r}", field=name) from exc
        if fragment is None:
            return {}
        if not isinstance(fragment, Mapping):
            raise MappingError(f"mapping {name} returned {type(fragment).__name__}", field=name)
        return {str(k): v for k, v in fragment.items()}


@dataclass(frozen=True, slots=True)
class FieldRule:
    """One field map entry compiled for one direction: read, transform, translate, write."""

    read: str
    write: str
    transform: Expression | None = None
    value_map: ValueMap | None = None
    value_map_name: str = ""
    backwards: bool = False
    create_only: bool = False
    update_only: bool = False
    required: bool = False
    skip_empty: bool = False

    def applies(self, for_create: bool, changed_fields: Collection[str] | None) -> bool:
        """Return True when this rule writes on this create or update."""
        if (self.create_only and not for_create) or (self.update_only and for_create):
            return False
        return changed_fields is None or self.read in changed_fields

    def apply(self, values: Values, lookups: Mapping[str, Callable[[object], object]]) -> object:
        """Compute the value to write.

        Raises:
            MappingError: naming the written field.
        """
        value = values.get(self.read)
        if self.backwards:
            value = self._translate(value)
        if self.transform is not None:
            scope = Scope(values=values, value=value, lookups=lookups)
            value = self.transform.evaluate(scope, field=self.write)
        if not self.backwards:
            value = self._translate(value)
        if self.required and (value is None or value == ""):
            raise MappingError(f"required, but {self.read} gives no value", field=self.write)
        return value

    def _translate(self, value: object) -> object:
        if self.value_map is None:
            return value
        name = f"value map {self.value_map_name!r}"
        try:
            if self.backwards:
                return self.value_map.backward(value, name=name)
            return self.value_map.forward(value, name=name)
        except MappingError as exc:
            raise MappingError(exc.message, field=self.write) from exc


class FieldMapMapper:
    """A mapper built from a flow's field map; maps both ways when the flow does.

    Example::

        mapper = FieldMapMapper.from_flow(doc.flow("accounts"), value_maps=doc.value_maps)
        payload = mapper.map(record.values, for_create=True)
    """

    def __init__(
        self,
        rules: Mapping[FieldDirection, Sequence[FieldRule]],
        *,
        value_maps: Mapping[str, ValueMap],
        filter_expression: Expression | None = None,
        line_rules: Sequence[FieldRule] = (),
    ) -> None:
        self._rules = {d: tuple(r) for d, r in rules.items()}
        self._filter = filter_expression
        self._line_rules = tuple(line_rules)
        self._lookups: dict[str, Callable[[object], object]] = {
            name: _forward(name, table) for name, table in value_maps.items()
        }

    @classmethod
    def from_flow(
        cls,
        flow: Flow,
        *,
        value_maps: Mapping[str, ValueMap],
        transforms: TransformTable | None = None,
    ) -> FieldMapMapper:
        """Compile ``flow``'s field map and filter.

        Raises:
            ConfigError: when an expression or value map is wrong (a document that passed
                :func:`~syncloom.engine.flows.load_flows` never raises here).
        """
        table = transforms if transforms is not None else TransformTable.load()
        compiler = _RuleCompiler(table, value_maps)
        rules = {
            direction: [
                compiler.rule(entry, direction)
                for entry in flow.fields
                if flow.field_direction(entry).includes(direction)
            ]
            for direction in (FieldDirection.TO_TARGET, FieldDirection.TO_SOURCE)
        }
        condition = compiler.expression(flow.filter) if flow.filter else None
        lines = flow.lines.fields if flow.lines is not None else ()
        line_rules = [compiler.rule(entry, FieldDirection.TO_TARGET) for entry in lines]
        return cls(rules, value_maps=value_maps, filter_expression=condition, line_rules=line_rules)

    def accepts(self, values: Values) -> bool:
        """Return True when the record passes the flow's filter (always, without one).

        Raises:
            MappingError: when the filter cannot be evaluated on these values.
        """
        if self._filter is None:
            return True
        scope = Scope(values=values, lookups=self._lookups)
        return bool(self._filter.evaluate(scope, field="filter"))

    def map(
        self,
        values: Values,
        *,
        for_create: bool = False,
        changed_fields: Collection[str] | None = None,
        direction: FieldDirection = FieldDirection.TO_TARGET,
    ) -> dict[str, object]:
        """Translate ``values`` in ``direction``.

        Args:
            values: the record read on the side being read (source for ``to_target``).
            for_create: True when the written record will be created.
            changed_fields: fields changed on the read side; ``None`` means all.
            direction: ``to_target`` or ``to_source``.

        Raises:
            MappingError: naming the written field whose value cannot be produced.
        """
        if direction is FieldDirection.BOTH:
            raise ConfigError("map one direction at a time: to_target or to_source")
        result: dict[str, object] = {}
        for rule in self._rules.get(direction, ()):
            if rule.applies(for_create, changed_fields):
                value = rule.apply(values, self._lookups)
                if rule.skip_empty and (value is None or value == ""):
                    continue  # nothing to say: the written side keeps what it holds
                result[rule.write] = value
        return result

    def map_line(self, values: Values) -> dict[str, object]:
        """Translate one document line with the flow's nested line field map.

        Raises:
            MappingError: naming the written line field whose value cannot be produced.
        """
        return {rule.write: rule.apply(values, self._lookups) for rule in self._line_rules}

    def fields(self, direction: FieldDirection) -> tuple[str, ...]:
        """The fields written in ``direction``, in field-map order."""
        return tuple(rule.write for rule in self._rules.get(direction, ()))


def _forward(name: str, table: ValueMap) -> Callable[[object], object]:
    return lambda value: table.forward(value, name=f"value map {name!r}")


class _RuleCompiler:
    """Turns field map entries into :class:`FieldRule` s, once, at configuration load."""

    def __init__(self, transforms: TransformTable, value_maps: Mapping[str, ValueMap]) -> None:
        self.transforms = transforms
        self.value_maps = value_maps

    def expression(self, text: str) -> Expression:
        try:
            return Expression.compile_transform(
                text, functions=self.transforms, lookups=self.value_maps
            )
        except ExpressionError as exc:
            raise ConfigError(exc.message) from exc

    def rule(self, entry: FieldMap, direction: FieldDirection) -> FieldRule:
        backwards = direction is FieldDirection.TO_SOURCE
        text = entry.reverse_transform if backwards else entry.transform
        table = None
        if entry.value_map is not None:
            table = self.value_maps.get(entry.value_map)
            if table is None:
                raise ConfigError(f"unknown value map {entry.value_map!r}")
        return FieldRule(
            read=entry.target if backwards else entry.source,
            write=entry.source if backwards else entry.target,
            transform=self.expression(text) if text else None,
            value_map=table,
            value_map_name=entry.value_map or "",
            backwards=backwards,
            create_only=entry.create_only,
            update_only=entry.update_only,
            required=entry.required,
            skip_empty=entry.skip_empty,
        )
