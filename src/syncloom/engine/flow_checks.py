"""Flow checks: everything a flow document must satisfy beyond its shape.

The shape (types, required keys, allowed words) is checked by the document models; this module
checks meaning: expressions parse and call known functions, value maps and parent flows exist,
cron expressions and time zones are valid, sides and directions agree. Each finding is one
:class:`Problem` with its path in the document, and all of them are reported together.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from croniter import croniter

from syncloom.engine.expressions import Expression, ExpressionError
from syncloom.errors import ConfigError

if TYPE_CHECKING:
    from syncloom.engine.flows import FieldMap, Flow, FlowDocument
    from syncloom.engine.transforms import TransformTable

__all__ = ["FlowDocumentError", "Problem", "check_document", "format_path"]


@dataclass(frozen=True, slots=True)
class Problem:
    """One thing wrong with a flow document, and where."""

    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.message}" if self.path else self.message


class FlowDocumentError(ConfigError):
    """A flow document has problems; ``problems`` lists every one of them with its path."""

    def __init__(self, problems: Sequence[Problem]) -> None:
        self.problems = list(problems)
        count = len(self.problems)
        listing = "\n".join(f"  {p}" for p in self.problems)
        super().__init__(f"flow document has {count} problem(s):\n{listing}")


def format_path(location: Sequence[int | str]) -> str:
    """Render a location such as ``("flows", 2, "fields", 5)`` as ``flows[2].fields[5]``."""
    text = ""
    for part in location:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


def check_document(document: FlowDocument, transforms: TransformTable) -> list[Problem]:
    """Return every problem of meaning in ``document`` (empty when it is sound)."""
    problems = list(_check_flow_names(document))
    for index, flow in enumerate(document.flows):
        checker = _FlowChecker(document, flow, f"flows[{index}]", transforms)
        problems.extend(checker.problems())
    problems.extend(_check_dependency_cycles(document))
    return problems


def _check_flow_names(document: FlowDocument) -> Iterator[Problem]:
    seen: set[str] = set()
    for index, flow in enumerate(document.flows):
        if flow.name in seen:
            yield Problem(f"flows[{index}].name", f"flow {flow.name!r} is defined twice")
        seen.add(flow.name)


def _check_dependency_cycles(document: FlowDocument) -> Iterator[Problem]:
    # A flow naming itself is reported by its own check; only longer loops are found here.
    parents = {f.name: [d.flow for d in f.depends_on if d.flow != f.name] for f in document.flows}
    for index, flow in enumerate(document.flows):
        stack, seen = list(parents.get(flow.name, [])), set()
        while stack:
            name = stack.pop()
            if name == flow.name:
                yield Problem(f"flows[{index}].depends_on", "dependencies form a cycle")
                break
            if name not in seen:
                seen.add(name)
                stack.extend(parents.get(name, []))


def _zone_problem(name: str) -> str | None:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return f"unknown time zone {name!r}"
    return None


class _FlowChecker:
    """Checks one flow; each ``_check_*`` method yields the problems of one part."""

    def __init__(
        self, document: FlowDocument, flow: Flow, path: str, transforms: TransformTable
    ) -> None:
        self.document = document
        self.flow = flow
        self.path = path
        self.transforms = transforms

    def problems(self) -> list[Problem]:
        found = [
            *self._check_sides(),
            *self._check_filter(),
            *self._check_schedule(),
            *self._check_windows(),
            *self._check_dependencies(),
        ]
        for index, entry in enumerate(self.flow.fields):
            found.extend(self._check_field(entry, f"{self.path}.fields[{index}]"))
        found.extend(self._check_duplicate_targets())
        found.extend(self._check_lines())
        found.extend(self._check_grouping())
        found.extend(self._check_lookups())
        return found

    def _check_grouping(self) -> Iterator[Problem]:
        if self.flow.aggregate is not None and self.flow.direction.value != "one_way":
            message = "a grouped source is read as totals and cannot be written: use one_way"
            yield Problem(f"{self.path}.aggregate", message)
        if not self.flow.create_missing and not self.flow.match.tiers:
            message = "create_missing: false needs match tiers, or no record is ever linked"
            yield Problem(f"{self.path}.create_missing", message)

    def _check_lookups(self) -> Iterator[Problem]:
        # Lookups and rules run on the way to the target, over what the record maps to.
        for index, entry in enumerate(self.flow.fields):
            uses = entry.lookup is not None or bool(entry.rules)
            if uses and self.flow.field_direction(entry).value != "to_target":
                message = "a field with a lookup or rules travels to the target only"
                yield Problem(f"{self.path}.fields[{index}].direction", message)

    def _compile(self, text: str, path: str, names: Collection[str] | None) -> Iterator[Problem]:
        try:
            Expression.compile_transform(
                text, functions=self.transforms, names=names, lookups=self.document.value_maps
            )
        except ExpressionError as exc:
            yield Problem(path, exc.message)

    def _source_names(self) -> frozenset[str] | None:
        # Field names are only checked when the flow lists its source fields; otherwise a
        # filter may read any field of the record (unknown ones read as None).
        return self.flow.known_source_fields() if self.flow.source_fields else None

    def _check_sides(self) -> Iterator[Problem]:
        if self.flow.source_side is self.flow.target_side:
            yield Problem(f"{self.path}.target.side", "source and target are on the same side")

    def _check_filter(self) -> Iterator[Problem]:
        if self.flow.filter is not None:
            yield from self._compile(self.flow.filter, f"{self.path}.filter", self._source_names())
        if self.flow.inactive_when is not None:
            path = f"{self.path}.inactive_when"
            yield from self._compile(self.flow.inactive_when, path, self._source_names())
        tiers = {tier.name for tier in self.flow.match.tiers}
        if self.flow.merge is not None and self.flow.merge.tier not in tiers:
            known = ", ".join(sorted(tiers)) or "none"
            message = f"unknown match tier {self.flow.merge.tier!r}; tiers: {known}"
            yield Problem(f"{self.path}.merge.tier", message)

    def _check_schedule(self) -> Iterator[Problem]:
        schedule = self.flow.schedule
        if schedule is None:
            return
        if not croniter.is_valid(schedule.cron):
            yield Problem(f"{self.path}.schedule.cron", f"invalid cron {schedule.cron!r}")
        zone = _zone_problem(schedule.timezone)
        if zone:
            yield Problem(f"{self.path}.schedule.timezone", zone)

    def _check_windows(self) -> Iterator[Problem]:
        for index, window in enumerate(self.flow.batch_windows):
            path = f"{self.path}.batch_windows[{index}]"
            zone = _zone_problem(window.timezone)
            if zone:
                yield Problem(f"{path}.timezone", zone)
            if window.start == window.end:
                yield Problem(f"{path}.end", "a window must not start and end at the same time")

    def _check_dependencies(self) -> Iterator[Problem]:
        names = {f.name for f in self.document.flows}
        for index, dependency in enumerate(self.flow.depends_on):
            path = f"{self.path}.depends_on[{index}].flow"
            if dependency.flow == self.flow.name:
                yield Problem(path, "a flow cannot depend on itself")
            elif dependency.flow not in names:
                yield Problem(path, f"unknown flow {dependency.flow!r}")

    def _check_field(self, entry: FieldMap, path: str) -> Iterator[Problem]:
        direction = self.flow.field_direction(entry)
        if entry.transform is not None:
            yield from self._compile(entry.transform, f"{path}.transform", self._source_names())
        if entry.reverse_transform is not None:
            yield from self._compile(entry.reverse_transform, f"{path}.reverse_transform", None)
        if entry.create_only and entry.update_only:
            yield Problem(path, "a field cannot be both create_only and update_only")
        if direction.value != "to_target" and self.flow.direction.value == "one_way":
            yield Problem(f"{path}.direction", f"{direction.value!r} in a one_way flow")
        yield from self._check_value_map(entry, path, direction.value != "to_target")

    def _check_value_map(self, entry: FieldMap, path: str, backwards: bool) -> Iterator[Problem]:
        if entry.value_map is None:
            return
        table = self.document.value_maps.get(entry.value_map)
        if table is None:
            yield Problem(f"{path}.value_map", f"unknown value map {entry.value_map!r}")
        elif backwards and table.reverse is None and not table.is_one_to_one():
            yield Problem(
                f"{path}.value_map",
                f"value map {entry.value_map!r} is not one-to-one; give it a reverse table",
            )

    def _check_lines(self) -> Iterator[Problem]:
        lines = self.flow.lines
        if lines is None:
            return
        for index, entry in enumerate(lines.fields):
            path = f"{self.path}.lines.fields[{index}]"
            if entry.transform is not None:
                yield from self._compile(entry.transform, f"{path}.transform", None)
            if entry.direction is not None and entry.direction.value != "to_target":
                yield Problem(f"{path}.direction", "lines travel to the target only")
            yield from self._check_value_map(entry, path, backwards=False)
        names = {f.name for f in self.document.flows}
        for index, dependency in enumerate(lines.depends_on):
            if dependency.flow not in names:
                path = f"{self.path}.lines.depends_on[{index}].flow"
                yield Problem(path, f"unknown flow {dependency.flow!r}")

    def _check_duplicate_targets(self) -> Iterator[Problem]:
        seen: set[str] = set()
        for index, entry in enumerate(self.flow.fields):
            if entry.target in seen and not (entry.create_only or entry.update_only):
                message = f"target field {entry.target!r} is mapped twice"
                yield Problem(f"{self.path}.fields[{index}].target", message)
            seen.add(entry.target)
