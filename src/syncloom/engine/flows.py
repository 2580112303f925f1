"""Flows: the flow document, the configuration of what syncs where and how.

What does a user configure? A YAML document of one or more :class:`Flow` s, each the sync of one
entity pair: endpoints, direction, field map, value maps, filter, schedule, conflict and delete
policy, match tiers, legal-entity routing, parent dependencies, batch windows and flapping
limits. :func:`load_flows` validates it and reports **every** problem with its path in the
document (``flows[2].fields[5].transform: unknown function 'uper'``); :func:`dump_flows`
writes it back so that ``load_flows(dump_flows(doc)) == doc``.

Example::

    doc = load_flows(Path("flows.yaml").read_text())
    accounts = doc.flow("accounts")
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from datetime import time
from typing import TYPE_CHECKING

import yaml
from pydantic import BaseModel, ConfigDict, Field, model_validator
from pydantic import ValidationError as PydanticValidationError

from syncloom.engine.flow_checks import FlowDocumentError, Problem, check_document, format_path
from syncloom.errors import MappingError

if TYPE_CHECKING:
    from syncloom.engine.transforms import TransformTable

__all__ = [
    "Aggregate",
    "BatchWindowSpec",
    "ConflictRule",
    "ContextValue",
    "DeleteRule",
    "Dependency",
    "Endpoint",
    "FieldDirection",
    "FieldLookup",
    "FieldMap",
    "Flapping",
    "Flow",
    "FlowDirection",
    "FlowDocument",
    "FlowDocumentError",
    "Inactivate",
    "KeyRule",
    "LegalEntityRoute",
    "Lines",
    "LookupChoice",
    "LookupFallback",
    "LookupRange",
    "MatchField",
    "MatchRules",
    "MatchTier",
    "MergeRule",
    "Normaliser",
    "Problem",
    "ReconcileRules",
    "Rule",
    "Routing",
    "Schedule",
    "Side",
    "ValueMap",
    "Weekday",
    "WriteBack",
    "dump_flows",
    "load_flows",
]


class Side(enum.StrEnum):
    """The two sides of every flow: the CRM and the ERP (conflict policies name them)."""

    CRM = "crm"
    ERP = "erp"

    @property
    def other(self) -> Side:
        """The opposite side."""
        return Side.ERP if self is Side.CRM else Side.CRM


class FlowDirection(enum.StrEnum):
    """Whether a flow writes only source → target, or both ways."""

    ONE_WAY = "one_way"
    BOTH = "both"


class FieldDirection(enum.StrEnum):
    """Which way one field travels."""

    TO_TARGET = "to_target"
    TO_SOURCE = "to_source"
    BOTH = "both"

    def includes(self, direction: FieldDirection) -> bool:
        """Return True when a field with this direction travels in ``direction``."""
        return self is FieldDirection.BOTH or self is direction


class ConflictRule(enum.StrEnum):
    """How a field changed on both sides since the last sync is settled."""

    CRM_WINS = "crm_wins"
    ERP_WINS = "erp_wins"
    NEWEST_WINS = "newest_wins"
    MANUAL_REVIEW = "manual_review"


class DeleteRule(enum.StrEnum):
    """What happens on the target when the source record disappears."""

    PROPAGATE = "propagate"
    INACTIVATE = "inactivate"
    IGNORE = "ignore"


class Normaliser(enum.StrEnum):
    """How a match field's values are normalised before they are compared."""

    EXACT = "exact"
    TEXT = "text"
    TAX_ID = "tax_id"
    EMAIL = "email"
    NAME = "name"


class Weekday(enum.StrEnum):
    """Days of the week, for batch windows."""

    MON = "mon"
    TUE = "tue"
    WED = "wed"
    THU = "thu"
    FRI = "fri"
    SAT = "sat"
    SUN = "sun"

    @property
    def number(self) -> int:
        """Monday is 0, as in :meth:`datetime.date.weekday`."""
        return list(Weekday).index(self)


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", coerce_numbers_to_str=True)


class Endpoint(_Model):
    """One end of a flow: a Connection by name, an entity, and which side it is."""

    connection: str = Field(min_length=1)
    entity: str = Field(min_length=1)
    side: Side | None = None


class ValueMap(_Model):
    """A table from one system's codes to the other's (countries, currencies, terms...)."""

    values: dict[str, str]
    default: str | None = None
    reverse: dict[str, str] | None = None
    reverse_default: str | None = None

    def forward(self, value: object, *, name: str = "value map") -> object:
        """Translate source → target.

        Raises:
            MappingError: when the value is not in the map and there is no default.
        """
        return _translate(value, self.values, self.default, name)

    def backward(self, value: object, *, name: str = "value map") -> object:
        """Translate target → source, by ``reverse`` or else by inverting ``values``."""
        return _translate(value, self.inverse(), self.reverse_default, name)

    def inverse(self) -> dict[str, str]:
        """The reverse table: explicit, or the first source code for each target code."""
        if self.reverse is not None:
            return self.reverse
        inverse: dict[str, str] = {}
        for source, target in self.values.items():
            inverse.setdefault(target, source)
        return inverse

    def is_one_to_one(self) -> bool:
        """Return True when no two source codes map to the same target code."""
        return len(set(self.values.values())) == len(self.values)


def _translate(value: object, table: Mapping[str, str], default: str | None, name: str) -> object:
    if value is None or value == "":
        return None
    found = table.get(str(value), default)
    if found is None:
        raise MappingError(f"{str(value)[:60]!r} is not in {name} and it has no default")
    return found


class LookupChoice(enum.StrEnum):
    """Which of the candidates a lookup found gives the value."""

    FIRST = "first"
    LOWEST = "lowest"
    HIGHEST = "highest"
    SUM = "sum"


class LookupFallback(enum.StrEnum):
    """What a lookup that finds no candidate leaves in the field."""

    MAPPED = "mapped"
    EMPTY = "empty"
    ERROR = "error"


class LookupRange(_Model):
    """Candidates whose ``[from_field, to_field)`` holds the record's ``value``.

    ``value`` names a field of the lookup's context (``today`` is the current date). An
    empty, zero or missing end is open, as ERPs store "no end date" or "no upper quantity".
    """

    value: str = Field(min_length=1)
    from_field: str | None = None
    to_field: str | None = None


class FieldLookup(_Model):
    """A value read from another entity of a Connection, by matching fields of the record.

    Candidates are the ``entity`` records whose fields equal the context fields ``match``
    names (candidate field: context field), plus the first alternative of ``any_of`` that
    finds any candidate (so a customer's own agreement wins over its group's), narrowed by
    ``ranges``. ``choose`` picks the candidate (or sums them); its ``value`` field is the
    result. With no candidate, ``fallback`` keeps the mapped value, empties it, or fails.
    ``enabled: false`` turns the lookup off and keeps the mapped value.
    """

    connection: str = Field(min_length=1)
    entity: str = Field(min_length=1)
    value: str = Field(min_length=1)
    match: dict[str, str] = {}
    any_of: tuple[dict[str, str], ...] = ()
    ranges: tuple[LookupRange, ...] = ()
    choose: LookupChoice = LookupChoice.FIRST
    fallback: LookupFallback = LookupFallback.MAPPED
    enabled: bool = True

    @model_validator(mode="after")
    def _check_match(self) -> FieldLookup:
        if not self.match and not self.any_of:
            raise ValueError("a lookup needs match or any_of fields")
        return self


class Rule(_Model):
    """One row of a field's decision table (``rules``), tried in order.

    When every ``when`` field of the context holds one of its values, the field gets
    ``value``; an empty ``when`` always holds (the catch-all row). No row holding leaves the
    mapped value.
    """

    when: dict[str, str | tuple[str, ...]] = {}
    value: str | None = None

    def holds(self, context: Mapping[str, object]) -> bool:
        """True when every condition holds for the context's values."""
        for name, wanted in self.when.items():
            options = (wanted,) if isinstance(wanted, str) else wanted
            value = context.get(name)
            if value is None or str(value) not in options:
                return False
        return True


class ContextValue(_Model):
    """A named value looked up before the field lookups run, readable by them, never written."""

    name: str = Field(min_length=1)
    lookup: FieldLookup


class Aggregate(_Model):
    """The source read as groups: records sharing ``group_by`` values are one record.

    The group's record holds the ``group_by`` values, the totals of ``sum``, the least of
    ``min`` and the greatest of ``max`` fields, and with ``count`` the number of records.
    """

    group_by: tuple[str, ...] = Field(min_length=1)
    sum: tuple[str, ...] = ()
    min: tuple[str, ...] = ()
    max: tuple[str, ...] = ()
    count: str | None = None


class FieldMap(_Model):
    """One entry of a flow's field map.

    ``skip_empty`` leaves the written side's value alone when this entry maps to nothing
    (``None`` or ``""``): the field is set where the reading side has a value, never cleared.
    """

    source: str = Field(min_length=1)
    target: str = Field(min_length=1)
    direction: FieldDirection | None = None
    transform: str | None = None
    reverse_transform: str | None = None
    value_map: str | None = None
    create_only: bool = False
    update_only: bool = False
    required: bool = False
    skip_empty: bool = False
    conflict: ConflictRule | None = None
    lookup: FieldLookup | None = None
    rules: tuple[Rule, ...] = ()


class Schedule(_Model):
    """When a flow polls: a cron expression read in a time zone."""

    cron: str
    timezone: str = "UTC"


class MatchField(_Model):
    """One pair of fields compared by a match tier."""

    source: str
    target: str
    normalise: Normaliser = Normaliser.TEXT


class MatchTier(_Model):
    """One tier of first-sync matching; all its field pairs must agree."""

    name: str = Field(min_length=1)
    fields: tuple[MatchField, ...] = Field(min_length=1)


class MatchRules(_Model):
    """Ordered match tiers, tried until one finds a candidate.

    With ``scope_by_legal_entity``, only target records whose ``legal_entity_field`` holds the
    legal entity the source record routes to are candidates.
    """

    tiers: tuple[MatchTier, ...] = ()
    scope_by_legal_entity: bool = False
    legal_entity_field: str | None = None


class LegalEntityRoute(_Model):
    """Where records with one routing value go."""

    legal_entity: str
    connection: str | None = None


class Routing(_Model):
    """Legal-entity routing: a source field and what each of its values means."""

    field: str
    routes: dict[str, LegalEntityRoute]
    default: LegalEntityRoute | None = None
    fallback_fields: tuple[str, ...] = ()

    def route(self, value: object) -> LegalEntityRoute | None:
        """Return the route for a routing value, or the default, or ``None``."""
        return self.routes.get(str(value), self.default) if value is not None else self.default

    def route_values(self, values: Mapping[str, object]) -> LegalEntityRoute | None:
        """The route of a record, by the first of its routing fields whose value has one.

        ``field`` first, then ``fallback_fields`` in order (a business unit, else a legal
        entity code), else the default.
        """
        for name in (self.field, *self.fallback_fields):
            value = values.get(name)
            if value is not None and str(value) in self.routes:
                return self.routes[str(value)]
        return self.default


class Dependency(_Model):
    """This flow's records point at another flow's records through a lookup field.

    The parent is synced first, on demand; with ``target`` set, the written record's
    ``target`` field gets the parent's twin, rendered by ``value`` (``{target_id}``, or a
    field of the parent's twin such as ``{field:CustomerAccount}``). With ``key``, the parent's
    id is that template rendered from the record's fields (``{field:Company}/{field:Account}``
    for a composite key) instead of the value of ``field``.
    """

    flow: str
    field: str
    target: str | None = None
    value: str = "{target_id}"
    key: str | None = None


class Lines(_Model):
    """Document lines: read with the document and written once, with its create.

    The source's lines are the records of a child ``entity`` whose ``parent_field`` holds the
    document's id, or else the embedded list in the document's ``field``. Each line is mapped
    with the nested ``fields``; ``depends_on`` points a line at a parent's twin (a product's
    item). The mapped lines go into the created document's list field ``target``, or, with
    ``target_entity``, become records of that entity whose ``target_parent_field`` holds
    ``target_parent_value`` (rendered from the created document, as a write-back is) and
    whose key comes from the ``target_key`` template rendered for the line. ``inherit``
    names fields of the mapped document that belong on its lines instead (a CRM keeps the
    project or department on the deal, the ERP on each invoice line): they are moved from the
    document onto every line that does not set them itself.
    """

    entity: str | None = None
    parent_field: str | None = None
    field: str = "lines"
    target: str | None = None
    target_entity: str | None = None
    target_parent_field: str | None = None
    target_parent_value: str = "{target_id}"
    target_key: str | None = None
    fields: tuple[FieldMap, ...] = Field(min_length=1)
    depends_on: tuple[Dependency, ...] = ()
    inherit: tuple[str, ...] = ()
    context: tuple[ContextValue, ...] = ()

    @model_validator(mode="after")
    def _check_ends(self) -> Lines:
        if self.entity is not None and self.parent_field is None:
            raise ValueError("lines read from a child entity need its parent_field")
        if (self.target is None) == (self.target_entity is None):
            raise ValueError("lines need exactly one of target and target_entity")
        if self.target_entity is not None and self.target_parent_field is None:
            raise ValueError("lines written to target_entity need target_parent_field")
        return self


class BatchWindowSpec(_Model):
    """A daily time range, in a time zone, when bulk work may run."""

    start: time
    end: time
    timezone: str = "UTC"
    days: tuple[Weekday, ...] = tuple(Weekday)


class Flapping(_Model):
    """A record synced more than ``max_syncs`` times in ``window_min`` minutes is paused."""

    max_syncs: int = Field(default=6, gt=0)
    window_min: int = Field(default=10, gt=0)


class KeyRule(_Model):
    """How a target record's key is chosen before its create, so a retried create finds it.

    ``template`` may use ``{uuid}`` (a UUID derived from the source key), ``{hash10}`` (ten
    characters derived from the source key), ``{legal_entity}``, ``{source_id}`` and
    ``{field:Name}`` (a value of the mapped payload).
    """

    template: str = "{uuid}"


class WriteBack(_Model):
    """A source field written after a create: ``{target_id}``, ``{legal_entity}`` or a field."""

    field: str = Field(min_length=1)
    value: str = "{target_id}"


class Inactivate(_Model):
    """How the target marks a record inactive when the delete policy is ``inactivate``."""

    field: str = Field(min_length=1)
    value: str | bool | int = False


class ReconcileRules(_Model):
    """What a reconciliation of the flow compares beyond keys and linked values.

    ``sum`` names target fields whose totals must agree on both sides (``[CREDITLIMIT]``);
    the source's total is taken over the same field of its mapped view.
    """

    sum: tuple[str, ...] = ()


class MergeRule(_Model):
    """How a CRM merge shows: the survivor matches the vanished record's twin on ``tier``.

    When a source record disappears and exactly one other source record matches its twin on
    this match tier (a merge gave the survivor the duplicate's ERP id), the survivor takes
    the twin over and the delete policy does not apply.
    """

    tier: str = Field(min_length=1)


class Flow(_Model):
    """The configured sync of one entity pair.

    ``context`` values are looked up before the field lookups that read them; ``aggregate``
    reads the source as groups of records; with ``create_missing: false`` a source record
    that has no twin and matches none is skipped instead of created (a flow that only
    updates records the other side already keeps, such as stock levels). With ``sweep``, each
    poll reads the whole source instead of what changed since the last one: for sources whose
    values change with no modification stamp (an open invoice's age), the echo check then keeps
    the records that did not change from being written.
    """

    name: str = Field(min_length=1)
    source: Endpoint
    target: Endpoint
    direction: FlowDirection = FlowDirection.ONE_WAY
    fields: tuple[FieldMap, ...] = ()
    source_fields: tuple[str, ...] = ()
    filter: str | None = None
    schedule: Schedule | None = None
    conflict: ConflictRule = ConflictRule.NEWEST_WINS
    delete: DeleteRule = DeleteRule.INACTIVATE
    match: MatchRules = MatchRules()
    routing: Routing | None = None
    depends_on: tuple[Dependency, ...] = ()
    batch_windows: tuple[BatchWindowSpec, ...] = ()
    flapping: Flapping = Flapping()
    key: KeyRule = KeyRule()
    writeback: tuple[WriteBack, ...] = ()
    inactivate: Inactivate | None = None
    lines: Lines | None = None
    reconcile: ReconcileRules = ReconcileRules()
    inactive_when: str | None = None
    merge: MergeRule | None = None
    context: tuple[ContextValue, ...] = ()
    aggregate: Aggregate | None = None
    create_missing: bool = True
    sweep: bool = False

    @property
    def source_side(self) -> Side:
        """Which side the source is: as declared, else the opposite of the target, else CRM."""
        if self.source.side is not None:
            return self.source.side
        return self.target.side.other if self.target.side is not None else Side.CRM

    @property
    def target_side(self) -> Side:
        """Which side the target is."""
        return self.target.side if self.target.side is not None else self.source_side.other

    def field_direction(self, entry: FieldMap) -> FieldDirection:
        """The field's own direction, or the flow's default for it."""
        if entry.direction is not None:
            return entry.direction
        both = self.direction is FlowDirection.BOTH
        return FieldDirection.BOTH if both else FieldDirection.TO_TARGET

    def conflict_rule(self, target_field: str) -> ConflictRule:
        """The conflict rule for one target field: its override, else the flow's."""
        entry = next((f for f in self.fields if f.target == target_field), None)
        return entry.conflict if entry and entry.conflict else self.conflict

    def known_source_fields(self) -> frozenset[str]:
        """Source fields this flow names: mapped, declared, routed and matched."""
        names = {f.source for f in self.fields} | set(self.source_fields)
        names |= {m.source for tier in self.match.tiers for m in tier.fields}
        names |= {d.field for d in self.depends_on}
        if self.routing is not None:
            names |= {self.routing.field, *self.routing.fallback_fields}
        return frozenset(names)


class FlowDocument(_Model):
    """A whole flow document: shared value maps and the flows using them."""

    version: int = 1
    value_maps: dict[str, ValueMap] = {}
    flows: tuple[Flow, ...] = ()

    def flow(self, name: str) -> Flow:
        """Return the flow called ``name``.

        Raises:
            KeyError: when there is none (names were checked at load, so this is a caller bug).
        """
        for flow in self.flows:
            if flow.name == name:
                return flow
        raise KeyError(name)


class _StrictLoader(yaml.SafeLoader):
    """A safe loader that refuses duplicate keys: YAML would silently keep the last one."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[object, object]:
        seen: set[object] = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            if key in seen:
                raise yaml.constructor.ConstructorError(
                    None, None, f"duplicate key {key!r}", key_node.start_mark
                )
            seen.add(key)
        return super().construct_mapping(node, deep=deep)


def load_flows(yaml_text: str, *, transforms: TransformTable | None = None) -> FlowDocument:
    """Parse and validate a flow document.

    Args:
        yaml_text: the document.
        transforms: the transform table expressions may call; default built-ins plus entry
            points, resolved now.

    Raises:
        FlowDocumentError: with one :class:`Problem` per problem found, each with its path.
    """
    from syncloom.engine.transforms import TransformTable

    try:
        raw = yaml.load(yaml_text, Loader=_StrictLoader)  # noqa: S506 - a SafeLoader subclass
    except yaml.YAMLError as exc:
        raise FlowDocumentError([Problem("", f"not valid YAML: {exc}")]) from exc
    try:
        document = FlowDocument.model_validate(raw if raw is not None else {})
    except PydanticValidationError as exc:
        problems = [Problem(format_path(e["loc"]), e["msg"]) for e in exc.errors()]
        raise FlowDocumentError(problems) from exc
    problems = check_document(document, transforms or TransformTable.load())
    if problems:
        raise FlowDocumentError(problems)
    return document


def dump_flows(document: FlowDocument) -> str:
    """Write a flow document as YAML, leaving out values that equal their defaults."""
    data = document.model_dump(mode="json", exclude_defaults=True)
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True)
