"""Lookups: field values read from another entity of a Connection while a record is mapped.

(Decision tables, a field's ``rules``, run in the same step: they too read the context.)

How does a flow take a line's price from the ERP's trade agreements, or write a CRM city
lookup as the city's name? A field map entry's ``lookup`` (and a flow's ``context``) names a
Connection's entity, the fields a candidate must share with the record, ranges that must hold
the record's values (validity dates, quantity breaks), and which candidate wins.
:class:`LookupRunner` runs them after the field map, over a context of the source record's
values and the mapped payload, so a lookup can match on values a parent gave (the customer
account, the item number). It never names a system: it searches through the connectors.

Example::

    runner = LookupRunner(search, today=lambda: date.today())
    context = await runner.context(flow.context, {**source.values, **payload})
    payload = await runner.apply(flow.fields, payload, context)
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from contextvars import ContextVar
from datetime import date, datetime
from decimal import Decimal, InvalidOperation

from syncloom.connectors.base import Record, Values
from syncloom.engine.flows import (
    ContextValue,
    FieldLookup,
    FieldMap,
    Flow,
    LookupChoice,
    LookupFallback,
    LookupRange,
    Rule,
)
from syncloom.errors import MappingError

__all__ = ["TODAY", "LookupRunner", "Search", "decide", "lookup_connections", "uses_lookups"]

TODAY = "today"
"""The context name of the current date, for validity ranges."""

Search = Callable[[str, str, Values], Awaitable[Sequence[Record]]]
"""Search one Connection's entity for records whose fields equal the criteria."""

_Searched = dict[tuple[str, str, tuple[tuple[str, str], ...]], Sequence[Record]]
# The searches of the record whose lookups run in this task, by connection, entity, criteria.
_SEARCHES: ContextVar[_Searched | None] = ContextVar("syncloom_lookup_searches", default=None)


class LookupRunner:
    """Runs the lookups of field maps and contexts through the Connections' connectors."""

    def __init__(self, search: Search, *, today: Callable[[], date]) -> None:
        self._search = search
        self._today = today

    def base_context(self, *layers: Mapping[str, object]) -> dict[str, object]:
        """Start one record's lookups: ``today`` and the layers of values, later ones winning.

        From here until the next record's start in the same task, a search asked again with
        the same criteria (two lines of one item, two values of one customer) is sent once.
        """
        _SEARCHES.set({})
        context: dict[str, object] = {TODAY: self._today()}
        for layer in layers:
            context.update(layer)
        return context

    async def overlay(
        self, flow: Flow, values: Values, mapped: Values, legal_entity: str | None
    ) -> dict[str, object]:
        """What ``flow``'s lookups and rules set on one record's mapped fields.

        For callers that map many records before writing any (a bulk load's page): only the
        fields with a lookup or rules, computed in the record's context.
        """
        if not uses_lookups(flow):
            return {}
        scope = self.base_context(values, {"legal_entity": legal_entity}, mapped)
        applied = await self.apply(flow.fields, mapped, await self.context(flow.context, scope))
        names = {entry.target for entry in flow.fields if entry.lookup is not None or entry.rules}
        return {name: value for name, value in applied.items() if name in names}

    async def context(
        self, specs: Sequence[ContextValue], context: Mapping[str, object]
    ) -> dict[str, object]:
        """The context with each named value looked up, in order (a later one may read it)."""
        out = dict(context)
        for spec in specs:
            if spec.lookup.enabled:
                out[spec.name] = await self.value(spec.lookup, out, None, field=spec.name)
        return out

    async def apply(
        self, fields: Sequence[FieldMap], payload: Mapping[str, object], context: Values
    ) -> dict[str, object]:
        """The payload with every mapped field that has a lookup replaced by its result.

        Raises:
            MappingError: a lookup with ``fallback: error`` found no candidate.
        """
        out = dict(payload)
        for entry in fields:
            if entry.target not in out:
                continue
            if entry.rules:
                out[entry.target] = decide(entry.rules, {**context, **out}, out[entry.target])
            spec = entry.lookup
            if spec is not None and spec.enabled:
                scope = {**context, **out}
                out[entry.target] = await self.value(spec, scope, out[entry.target], entry.target)
        return out

    async def value(
        self, spec: FieldLookup, context: Mapping[str, object], mapped: object, field: str
    ) -> object:
        """The looked-up value, or the fallback when no candidate qualifies."""
        found = await self.candidates(spec, context)
        if not found:
            if spec.fallback is LookupFallback.ERROR:
                raise MappingError(f"no {spec.entity} record matches for {field}", field=field)
            return mapped if spec.fallback is LookupFallback.MAPPED else None
        return _choose(spec, found, field)

    async def candidates(self, spec: FieldLookup, context: Mapping[str, object]) -> list[Record]:
        """The records of the first alternative (``any_of``) that finds any in range."""
        base = _criteria(spec.match, context)
        if base is None:
            return []
        for alternative in spec.any_of or ({},):
            extra = _criteria(alternative, context)
            if extra is None:
                continue
            rows = await self._remembered(spec.connection, spec.entity, {**base, **extra})
            inside = [
                r for r in rows if all(_holds(rule, r.values, context) for rule in spec.ranges)
            ]
            if inside:
                return inside
        return []

    async def _remembered(
        self, connection: str, entity: str, criteria: dict[str, object]
    ) -> Sequence[Record]:
        memo = _SEARCHES.get()
        key = (connection, entity, tuple(sorted((k, repr(v)) for k, v in criteria.items())))
        if memo is not None and key in memo:
            return memo[key]
        rows = await self._search(connection, entity, criteria)
        if memo is not None:
            memo[key] = rows
        return rows


def lookup_connections(flow: Flow) -> frozenset[str]:
    """The Connections a flow's lookups search (fields, lines and contexts)."""
    entries = [*flow.fields, *(flow.lines.fields if flow.lines else ())]
    values = [*flow.context, *(flow.lines.context if flow.lines else ())]
    specs = [e.lookup for e in entries if e.lookup is not None] + [v.lookup for v in values]
    return frozenset(spec.connection for spec in specs)


def uses_lookups(flow: Flow) -> bool:
    """True when a flow's fields need lookups or rules after mapping."""
    return any(entry.lookup is not None or entry.rules for entry in flow.fields)


def decide(rules: Sequence[Rule], context: Mapping[str, object], mapped: object) -> object:
    """The value of the first rule that holds for the context; the mapped value if none."""
    for rule in rules:
        if rule.holds(context):
            return rule.value
    return mapped


def _criteria(pairs: Mapping[str, str], context: Mapping[str, object]) -> dict[str, object] | None:
    """Candidate field -> the context's value; ``None`` when a value is missing (no match)."""
    out: dict[str, object] = {}
    for candidate_field, name in pairs.items():
        value = context.get(name)
        if value is None or value == "":
            return None
        out[candidate_field] = value
    return out


def _open(value: object) -> bool:
    return value is None or value == "" or (not isinstance(value, bool) and value == 0)


def _aligned(left: object, right: object) -> tuple[object, object]:
    """Compare a date with a date and numbers as Decimals, whatever each side stored."""
    if isinstance(left, datetime) and isinstance(right, date) and not isinstance(right, datetime):
        return left.date(), right
    if isinstance(right, datetime) and isinstance(left, date) and not isinstance(left, datetime):
        return left, right.date()
    if isinstance(left, int | float | Decimal) and isinstance(right, int | float | Decimal):
        return Decimal(str(left)), Decimal(str(right))
    return left, right


def _holds(rule: LookupRange, candidate: Values, context: Mapping[str, object]) -> bool:
    value = context.get(rule.value)
    if value is None:
        return False
    try:
        if rule.from_field is not None:
            start = candidate.get(rule.from_field)
            if not _open(start):
                low, here = _aligned(start, value)
                if here < low:  # type: ignore[operator]
                    return False
        if rule.to_field is not None:
            end = candidate.get(rule.to_field)
            if not _open(end):
                here, high = _aligned(value, end)
                if not here < high:  # type: ignore[operator]
                    return False
    except TypeError as exc:
        text = f"range {rule.from_field}..{rule.to_field} cannot hold {value!r}: {exc}"
        raise MappingError(text) from exc
    return True


def _number(value: object, field: str) -> Decimal:
    try:
        return Decimal(str(value)) if value is not None and value != "" else Decimal(0)
    except InvalidOperation as exc:
        raise MappingError(f"{value!r} is not a number", field=field) from exc


def _choose(spec: FieldLookup, found: list[Record], field: str) -> object:
    if spec.choose is LookupChoice.SUM:
        return sum((_number(r.values.get(spec.value), field) for r in found), Decimal(0))
    if spec.choose is LookupChoice.FIRST:
        return found[0].values.get(spec.value)
    numbers = [_number(r.values.get(spec.value), field) for r in found]
    return min(numbers) if spec.choose is LookupChoice.LOWEST else max(numbers)
