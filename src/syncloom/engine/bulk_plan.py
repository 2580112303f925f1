"""PagePlanner: what a bulk run would do with one page of source records, free of writes.

Each source record gets one :class:`Planned` entry: create it under a chosen key, update (or
just bind) the twin found by its link or by matching, leave it to review (ambiguous match, or
a conflict the flow's policy leaves to a person), or skip it (already linked, leased by a
running record job, filtered out). A dry run reports the plan; a real run hands it to the
:class:`~syncloom.engine.bulk_writer.PageWriter`.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from syncloom.connectors.base import Record, Values
from syncloom.engine.bulk_index import TargetSnapshot
from syncloom.engine.field_checks import check_payload
from syncloom.engine.flows import FieldDirection, Flow, FlowDirection
from syncloom.engine.keys import render_key
from syncloom.engine.mapper import FieldMapMapper
from syncloom.engine.matcher import MatchKind
from syncloom.engine.record_job import FlowSide
from syncloom.engine.succession import Retirement
from syncloom.engine.sync_plan import jsonable, plan_sync
from syncloom.errors import MappingError
from syncloom.store.models import LinkState

__all__ = ["Action", "LinkRow", "PagePlanner", "Planned"]


class Action(enum.StrEnum):
    """What a bulk run does with one source record."""

    CREATE = "create"
    UPDATE = "update"
    BIND = "bind"
    REVIEW = "review"
    SKIP = "skip"
    FAILED = "failed"


_WRITING = frozenset({Action.CREATE, Action.UPDATE, Action.BIND})


@dataclass(frozen=True, slots=True)
class LinkRow:
    """A link of the page as read, with its lease, so the plan knows what is taken."""

    id: int
    state: LinkState
    target_key: str | None
    pending_key: str | None
    base_snapshot: dict[str, Any] | None
    leased: bool


@dataclass(frozen=True)
class Planned:
    """One source record's planned action and the evidence behind it.

    Attributes:
        action: what to do.
        source: the source record as read.
        target_key: the twin's full key (chosen for a create, found for the others).
        target: the twin as prefetched, for updates and binds.
        to_target: the create payload, or the fields an update writes on the target.
        to_source: fields a two-way update writes back on the source.
        base: the snapshot to store once written.
        diff: the field-level diff for the record log and the dry-run report.
        reason: why a record is skipped, reviewed or failed.
        matched: True when the twin was found by matching (not by a link).
        link_id: the existing link, if any.
    """

    action: Action
    source: Record
    target_key: str | None = None
    target: Record | None = None
    to_target: dict[str, object] = field(default_factory=dict)
    to_source: dict[str, object] = field(default_factory=dict)
    base: dict[str, object] = field(default_factory=dict)
    diff: dict[str, Any] = field(default_factory=dict)
    reason: str = ""
    legal_entity: str | None = None
    matched: bool = False
    link_id: int | None = None
    candidates: tuple[str, ...] = ()

    @property
    def writes(self) -> bool:
        """True when the record needs a link row (and a lease) before any write."""
        return self.action in _WRITING

    @property
    def log_action(self) -> str:
        """The record-log action, in the words the record job uses."""
        if self.action is Action.CREATE:
            return "created"
        if self.matched:
            return "matched_updated" if self.action is Action.UPDATE else "matched"
        return "updated" if self.action is Action.UPDATE else "unchanged"


class PagePlanner:
    """Plans pages of one flow against a prefetched target snapshot."""

    def __init__(
        self,
        *,
        flow: Flow,
        source: FlowSide,
        target: FlowSide,
        mapper: FieldMapMapper,
        snapshot: TargetSnapshot,
        refresh_linked: bool = False,
        looked_up: Mapping[str, Mapping[str, object]] | None = None,
    ) -> None:
        self.flow = flow
        self.source = source
        self.target = target
        self.mapper = mapper
        self.snapshot = snapshot
        self.refresh_linked = refresh_linked
        self.retirement = Retirement.from_flow(flow)
        # Per source key: the values the flow's lookups and rules gave (read before planning).
        self.looked_up = looked_up or {}

    def _mapped(self, source: Record, *, for_create: bool = False) -> dict[str, object]:
        mapped = self.mapper.map(source.values, for_create=for_create)
        extra = self.looked_up.get(str(source.key), {})
        return {**mapped, **{name: v for name, v in extra.items() if name in mapped}}

    def _check(self, source: Record, payload: Mapping[str, object], *, for_create: bool) -> None:
        """Before a create or update is planned: refuse what the target's fields would refuse."""
        if self.snapshot.spec is not None and payload:
            check_payload(
                self.snapshot.spec,
                payload,
                for_create=for_create,
                record_key=str(source.key),
                system=self.target.connector.system,
            )

    def plan(self, records: Sequence[Record], links: Mapping[str, LinkRow]) -> list[Planned]:
        """Plan every record of a page; ``links`` holds the page's links by source key."""
        return [self.plan_one(record, links.get(str(record.key))) for record in records]

    def plan_one(self, source: Record, link: LinkRow | None) -> Planned:
        """Plan one source record given its link (``None`` when it has none)."""
        try:
            return self._plan(source, link)
        except MappingError as exc:
            return Planned(Action.FAILED, source, reason=f"MappingError: {exc}")

    def _plan(self, source: Record, link: LinkRow | None) -> Planned:
        if link is not None and link.leased:
            return Planned(Action.SKIP, source, reason="leased by a running job", link_id=link.id)
        if link is not None and link.state is not LinkState.PENDING:
            return self._plan_linked(source, link)
        if not self.mapper.accepts(source.values):
            return Planned(Action.SKIP, source, reason="filtered out")
        if self.retirement.is_retired(source.values):
            return Planned(Action.SKIP, source, reason="inactive, and never synced")
        if link is not None:
            # A reservation left by a run that died: its key may already exist.
            twin = self.snapshot.get(link.pending_key)
            if twin is not None:
                return self._plan_pair(source, twin, None, matched=True, link_id=link.id)
            return self._plan_create(source, link.pending_key, link.id)
        return self._plan_match(source) or self._plan_create(source, None, None)

    def _plan_linked(self, source: Record, link: LinkRow) -> Planned:
        if link.state is LinkState.UNLINKED:
            return Planned(Action.SKIP, source, reason="twin deleted", link_id=link.id)
        twin = self.snapshot.get(link.target_key)
        if not self.refresh_linked:
            return Planned(Action.SKIP, source, reason="already linked", link_id=link.id)
        if twin is None:
            return Planned(Action.SKIP, source, reason="twin missing", link_id=link.id)
        if not self.mapper.accepts(source.values):
            return Planned(Action.SKIP, source, reason="filtered out", link_id=link.id)
        if self.retirement.is_retired(source.values):
            # Deactivating the twin is the delete policy's write, which its record job makes.
            return Planned(Action.SKIP, source, reason="inactive", link_id=link.id)
        return self._plan_pair(source, twin, link.base_snapshot, matched=False, link_id=link.id)

    def _plan_match(self, source: Record) -> Planned | None:
        snapshot = self.snapshot
        if snapshot.matcher is None or snapshot.index is None:
            return None
        legal_entity = self.legal_entity(source)
        found = snapshot.matcher.match(source.values, snapshot.index, legal_entity=legal_entity)
        if found.kind is MatchKind.AMBIGUOUS:
            candidates = tuple(str(k) for k in found.candidates)
            reason = f"ambiguous match on tier {found.tier}"
            return Planned(Action.REVIEW, source, reason=reason, candidates=candidates)
        twin = snapshot.get(str(found.key)) if found.kind is MatchKind.MATCHED else None
        if twin is None:
            return None
        return self._plan_pair(source, twin, None, matched=True, link_id=None)

    def _plan_pair(
        self,
        source: Record,
        twin: Record,
        base: Mapping[str, object] | None,
        *,
        matched: bool,
        link_id: int | None,
    ) -> Planned:
        view = self._mapped(source)
        reverse: Values = {}
        if self.flow.direction is FlowDirection.BOTH:
            reverse = self.mapper.map(twin.values, direction=FieldDirection.TO_SOURCE)
        plan = plan_sync(
            self.flow, source_view=view, source=source, target=twin, base=base, reverse=reverse
        )
        common: dict[str, Any] = {
            "target_key": str(twin.key),
            "target": twin,
            "base": plan.base,
            "diff": plan.diff(),
            "legal_entity": self.legal_entity(source),
            "matched": matched,
            "link_id": link_id,
        }
        reviews = [r.field for r in plan.resolutions if r.verdict.value == "review"]
        if reviews:
            reason = "conflict needs review on: " + ", ".join(reviews)
            return Planned(Action.REVIEW, source, reason=reason, **common)
        action = Action.BIND if plan.is_noop else Action.UPDATE
        self._check(source, plan.to_target, for_create=False)
        return Planned(action, source, to_target=plan.to_target, to_source=plan.to_source, **common)

    def _plan_create(self, source: Record, reserved: str | None, link_id: int | None) -> Planned:
        payload = self._mapped(source, for_create=True)
        self._check(source, payload, for_create=True)
        legal_entity = self.legal_entity(source)
        if reserved is None:
            ident = render_key(
                self.flow.key.template,
                source=source.key,
                payload=payload,
                legal_entity=legal_entity,
            )
            reserved = str(self.target.key(ident))
        return Planned(
            Action.CREATE,
            source,
            target_key=reserved,
            to_target=dict(payload),
            base=jsonable(self._mapped(source)),
            diff={"created": jsonable(payload)},
            legal_entity=legal_entity,
            link_id=link_id,
        )

    def legal_entity(self, source: Record) -> str | None:
        """The legal entity the flow's routing sends ``source`` to, if it routes."""
        routing = self.flow.routing
        if routing is None:
            return None
        route = routing.route_values(source.values)
        return route.legal_entity if route else None
