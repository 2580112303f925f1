"""RecordJob: the unit of work for one record, level-triggered.

A hint only says "record X may have changed". The job re-reads X and its twin now, skips our
own echoes, maps, binds or matches, compares three ways with the last synced snapshot, writes
the difference through the Governor, writes the target's key back to the source after a
create, and commits the link, snapshot, ledger, record log and dead-letter closure in one
transaction. Running it twice, late, or out of order ends in the same state.

Each step is a small hook; its docstring says when it runs.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping, Sequence
from contextlib import AbstractAsyncContextManager, nullcontext
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from syncloom.connectors.base import Connector, Record, RecordKey, Values
from syncloom.engine.binder import Binder, LinkView
from syncloom.engine.dead_letters import DeadLetterQueue
from syncloom.engine.echo import EchoFilter, FlappingDetector
from syncloom.engine.fanout import settle_all, settle_both
from syncloom.engine.field_checks import FieldChecker
from syncloom.engine.flows import (
    DeleteRule,
    Dependency,
    FieldDirection,
    FieldMap,
    Flow,
    FlowDirection,
    Side,
)
from syncloom.engine.governor import Governor
from syncloom.engine.grouping import combine, group_id, group_values, is_group
from syncloom.engine.hashing import hash_values, same_value
from syncloom.engine.keys import render_key, render_template
from syncloom.engine.ledger import SqlWriteLedger
from syncloom.engine.lookups import LookupRunner
from syncloom.engine.mapper import FieldMapMapper
from syncloom.engine.matcher import Matcher, MatchKind
from syncloom.engine.parents import Parents
from syncloom.engine.record_log import RecordLog
from syncloom.engine.succession import Retirement, Succession
from syncloom.engine.sync_plan import SyncPlan, jsonable, plan_sync
from syncloom.errors import (
    AlreadyExistsError,
    ConfigError,
    ConflictError,
    MappingError,
    TransientError,
)
from syncloom.store.models import LinkState

__all__ = ["FlowSide", "JobOutcome", "RecordJob"]


@dataclass(frozen=True)
class FlowSide:
    """One end of a flow: its connector, connection name, entity, side and budget."""

    connector: Connector
    connection: str
    entity: str
    side: Side
    governor: Governor | None = None

    def slot(self) -> AbstractAsyncContextManager[object]:
        """A Governor slot for one request (no budget, no wait)."""
        return self.governor.slot() if self.governor else nullcontext()

    def key(self, ident: str) -> RecordKey:
        """The full record key of ``ident`` on this side."""
        return RecordKey(self.connector.system, self.entity, ident)

    def owns(self, key: RecordKey) -> bool:
        """True when ``key`` names a record of this side's entity."""
        return key.system == self.connector.system and key.entity == self.entity


@dataclass(frozen=True)
class JobOutcome:
    """What one run of the job did, small enough to checkpoint."""

    action: str
    reason: str = ""
    source_key: str | None = None
    target_key: str | None = None
    writes: int = 0
    diff: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        """A JSON-ready form for the runtime's checkpoint."""
        return {
            "action": self.action,
            "reason": self.reason,
            "source_key": self.source_key,
            "target_key": self.target_key,
            "writes": self.writes,
        }


@dataclass(frozen=True)
class _Pair:
    source: Record | None
    target: Record | None
    link: LinkView | None


class RecordJob:
    """Sync one record of one flow; constructor arguments are its whole world."""

    def __init__(
        self,
        *,
        flow: Flow,
        source: FlowSide,
        target: FlowSide,
        mapper: FieldMapMapper,
        binder: Binder,
        echo: EchoFilter,
        ledger: SqlWriteLedger,
        log: RecordLog,
        dead_letters: DeadLetterQueue,
        sessions: sessionmaker[Session],
        matcher: Matcher | None = None,
        parents: Callable[[str], RecordJob] | None = None,
        flapping: FlappingDetector | None = None,
        lookups: LookupRunner | None = None,
    ) -> None:
        self.flow = flow
        self.source = source
        self.target = target
        self.mapper = mapper
        self.binder = binder
        self.echo = echo
        self.ledger = ledger
        self.log = log
        self.dead_letters = dead_letters
        self._sessions = sessions
        self.matcher = matcher or (Matcher.from_rules(flow.match) if flow.match.tiers else None)
        self.parents = parents
        self.flapping = flapping
        self.lookups = lookups
        self.field_checks = FieldChecker(target.connector, target.entity)
        # Two-way flows write the source too; its own field list vets that share.
        self.source_checks = FieldChecker(source.connector, source.entity)
        self.retirement = Retirement.from_flow(flow)
        self.succession = Succession.from_flow(flow)
        self.routes: dict[str, RecordJob] = {}

    def route_through(self, routes: Mapping[str, RecordJob]) -> None:
        """Runs at assembly: records routed to these legal entities use these jobs instead.

        Each job is this flow's job with the target end on the Connection a route names (an
        ERP entity signed in on its own), so reads, writes and budget are that Connection's;
        the links stay this flow's and remember the legal entity.
        """
        self.routes = dict(routes)

    async def route_for(self, hint: RecordKey) -> RecordJob:
        """Runs first when routes name Connections: the job whose Connection owns ``hint``.

        A linked record keeps the legal entity it was created in; an unlinked source record
        goes where its routing field sends it; anything else stays on the flow's own target.
        """
        side = self._side_of(hint)
        link = self.binder.find(str(hint), side.side)
        if link is not None and link.legal_entity is not None:
            return self.routes.get(link.legal_entity, self)
        if side is not self.source:
            return self
        source = await self.read_side(self.source, str(hint))
        entity = self.legal_entity(source) if source is not None else None
        return self.routes.get(entity, self) if entity is not None else self

    # -- the template -------------------------------------------------------------------
    async def run(
        self, hint: RecordKey, overrides: Mapping[str, object] | None = None, force: bool = False
    ) -> JobOutcome:
        """Bring the record named by ``hint`` (either side) and its twin in step.

        Args:
            hint: a record of the flow's source or target entity.
            overrides: target-named values an operator set on a dead letter's replay.
            force: skip the echo check (a replay must run even if nothing seems changed).

        Raises:
            SyncError: classified failures; the caller's RetryPolicy decides what follows.
        """
        if self.routes:
            routed = await self.route_for(hint)
            if routed is not self:
                return await routed.run(hint, overrides, force)
        side = self._side_of(hint)
        if side is self.source and self.flow.aggregate and not is_group(hint.id):
            group = await self.group_of(hint)
            if group is None:
                reason = "no such record, or it lacks a field to group it by"
                return self.note(JobOutcome("skipped", reason, str(hint)))
            hint = group
        pair = await self.read_pair(hint, side)
        if pair.source is None:
            return await self.on_source_missing(hint, pair)
        if self.is_retired(pair.source):
            # Deactivating maps no field, so it is decided before the echo check; doing it
            # twice finds the twin inactive already and writes nothing.
            return await self.on_source_retired(pair.source, pair)
        hinted = pair.source if side is self.source else pair.target
        echo = await self._echo_of(hinted, side, force)
        if echo is not None:
            return await asyncio.to_thread(self.note, echo)
        if not self.mapper.accepts(pair.source.values):
            outcome = JobOutcome("skipped", "filtered out", str(pair.source.key))
            return await asyncio.to_thread(self.note, outcome)
        # A reservation still pending means a create that never settled (a crash after the
        # create call, or before its lines and write-back): finish the create, idempotently.
        resuming = pair.link is not None and pair.link.state is LinkState.PENDING
        if pair.target is None or resuming:
            return await self.create_or_match(pair.source, pair.link, overrides)
        return await self.update_pair(pair.source, pair.target, pair.link, overrides)

    def note(self, outcome: JobOutcome) -> JobOutcome:
        """Runs when the job decides to do nothing: the record log still says why."""
        with self._sessions.begin() as session:
            self.log.add(
                session,
                flow=self.flow.name,
                record_key=outcome.source_key or "",
                action=outcome.action,
                diff={"reason": outcome.reason},
            )
        return outcome

    async def _echo_of(
        self, hinted: Record | None, side: FlowSide, force: bool
    ) -> JobOutcome | None:
        if hinted is None or force:
            return None
        # Database calls leave the event loop: one job waiting for the database's write lock
        # must not hold up the HTTP calls of every other job in the process.
        return await asyncio.to_thread(self.skip_echo, hinted, side)

    def _side_of(self, hint: RecordKey) -> FlowSide:
        for side in (self.source, self.target):
            if side.owns(hint):
                return side
        raise ConfigError(f"{hint} belongs to neither side of flow {self.flow.name!r}")

    # -- hooks ----------------------------------------------------------------------------
    async def read_pair(self, hint: RecordKey, side: FlowSide) -> _Pair:
        """Runs first: find the twin through the link and read both records now."""
        link = await asyncio.to_thread(self.binder.find, str(hint), side.side)
        if link is not None and link.leased_at(self.binder.now()):
            # A bulk page owns this record until it settles; come back when it has.
            raise TransientError(
                "a bulk run holds this record", retry_after_s=5.0, record_key=str(hint)
            )
        keys = {side.side: str(hint)}
        if link is not None:
            for end in (self.source, self.target):
                keys.setdefault(end.side, link.key(end.side) or "")
        source, target = await settle_both(
            self.read_side(self.source, keys.get(self.source.side)),
            self.read_side(self.target, keys.get(self.target.side)),
        )
        return _Pair(source, target, link)

    async def read_side(self, end: FlowSide, key: str | None) -> Record | None:
        """The record behind ``key`` on one end of this flow (a group on an aggregate source)."""
        if not key:
            return None
        ident = RecordKey.parse(key).id
        if end is self.source and self.flow.aggregate is not None and is_group(ident):
            return await self.read_group(ident)
        async with end.slot():
            return await end.connector.get(end.entity, ident)

    async def group_of(self, member: RecordKey) -> RecordKey | None:
        """Runs first on a grouped flow: the group a hinted source record belongs to."""
        assert self.flow.aggregate is not None
        async with self.source.slot():
            record = await self.source.connector.get(self.source.entity, member.id)
        if record is None:
            return None
        try:
            return self.source.key(group_id(self.flow.aggregate, record.values))
        except MappingError:
            return None  # a record outside every group (an invoice of no order) is no change

    async def read_group(self, ident: str) -> Record | None:
        """Runs instead of a source read on a grouped flow: the group's members, combined."""
        spec = self.flow.aggregate
        assert spec is not None
        criteria = group_values(spec, ident)
        async with self.source.slot():
            members = await self.source.connector.search(self.source.entity, criteria, limit=1000)
        return combine(spec, self.source.key(ident), members) if members else None

    def skip_echo(self, record: Record, side: FlowSide) -> JobOutcome | None:
        """Runs after the read: a record that still holds what we last synced is no change.

        The ledger keeps, per record, the hash of what this flow reads from it as of our last
        sync (computed from the values we read plus the values we wrote, never from what the
        system answered, so a person's edit landing between our read and our write is never
        mistaken for ours). The integration user only names the reason.
        """
        key = str(record.key)
        if not self.ledger.matches(key, self._fingerprint(side, record.values)):
            return None
        ours = self.echo.is_integration_user(record, side.connection)
        return JobOutcome("skipped", "echo: integration_user" if ours else "echo: own_write", key)

    def _fingerprint(self, side: FlowSide, values: Values) -> str:
        """The hash of what this flow reads from a record's values: its mapped view, per side."""
        if side is self.source:
            return hash_values(self.mapper.map(values))
        fields = self.mapper.fields(FieldDirection.TO_TARGET)
        return hash_values({k: v for k, v in values.items() if k in fields})

    async def on_source_missing(self, hint: RecordKey, pair: _Pair) -> JobOutcome:
        """Runs when the source record is gone: apply the flow's delete policy to the twin."""
        if pair.link is None or pair.target is None:
            return JobOutcome("skipped", "no such record", str(hint))
        merged = await self.hand_over(hint, pair.link, pair.target)
        if merged is not None:
            return merged
        rule = self.flow.delete
        target = pair.target
        if rule is DeleteRule.PROPAGATE:
            async with self.target.slot():
                await self.target.connector.delete(self.target.entity, target.key.id)
            action = "deleted"
        elif rule is DeleteRule.INACTIVATE and self.flow.inactivate is not None:
            values = {self.flow.inactivate.field: self.flow.inactivate.value}
            async with self.target.slot():
                await self.target.connector.update(self.target.entity, target.key.id, values)
            action = "inactivated"
        else:
            action = "delete_ignored"
        with self._sessions.begin() as session:
            self.binder.unbind(session, pair.link.id)
            self.log.add(
                session,
                flow=self.flow.name,
                record_key=str(hint),
                action=action,
                diff={"target": str(target.key), "policy": rule.value},
            )
        return JobOutcome(action, f"delete policy {rule.value}", str(hint), str(target.key), 1)

    def is_retired(self, source: Record) -> bool:
        """Whether the source, still in the flow's scope, is deactivated (``inactive_when``)."""
        values = source.values
        return self.retirement.is_retired(values) and self.mapper.accepts(values)

    async def on_source_retired(self, source: Record, pair: _Pair) -> JobOutcome:
        """Runs when the source is deactivated (``inactive_when``): the delete policy applies.

        ``inactivate`` sets the twin inactive and keeps the link (a reactivated record finds
        its twin again); ``propagate`` deletes it as a vanished source would; ``ignore``, or
        no ``inactivate`` field, leaves it alone.
        """
        key = str(source.key)
        target, link, rule = pair.target, pair.link, self.flow.delete
        if target is None or link is None:
            return self.note(JobOutcome("skipped", "inactive, and never synced", key))
        if rule is DeleteRule.PROPAGATE:
            return await self.on_source_missing(source.key, pair)
        if rule is DeleteRule.IGNORE or self.flow.inactivate is None:
            return self.note(JobOutcome("skipped", f"inactive; delete policy {rule.value}", key))
        values = {self.flow.inactivate.field: self.flow.inactivate.value}
        if all(same_value(target.values.get(k), v) for k, v in values.items()):
            return self.note(JobOutcome("skipped", "inactive; its twin is inactive too", key))
        async with self.target.slot():
            await self.target.connector.update(
                self.target.entity, target.key.id, values, version=target.version
            )
        with self._sessions.begin() as session:
            diff = {"target": str(target.key), "policy": rule.value, "set": values}
            self.log.add(
                session, flow=self.flow.name, record_key=key, action="inactivated", diff=diff
            )
        return JobOutcome("inactivated", "source is inactive", key, str(target.key), 1)

    async def hand_over(self, gone: RecordKey, link: LinkView, twin: Record) -> JobOutcome | None:
        """Runs when a source record vanished: a merge's survivor takes its twin over.

        The vanished record's link is retired and the survivor's job runs now, matching the
        twin on the merge tier; nothing is deleted or deactivated in the target.
        """

        async def search(criteria: Values) -> list[Record]:
            async with self.source.slot():
                return list(await self.source.connector.search(self.source.entity, criteria))

        def same_route(candidate: Record) -> bool:
            route = self.legal_entity(candidate)
            return link.legal_entity is None or route in (None, link.legal_entity)

        survivor = await self.succession.survivor(gone, twin, search, same_route)
        if survivor is None:
            return None
        held = self.binder.to_other(str(survivor.key), self.source.side)
        if held is not None and held != str(twin.key):
            return None  # the survivor keeps a twin of its own: this one is a duplicate
        with self._sessions.begin() as session:
            self.binder.unbind(session, link.id)
            diff = {"survivor": str(survivor.key), "target": str(twin.key)}
            self.log.add(
                session, flow=self.flow.name, record_key=str(gone), action="merged", diff=diff
            )
        outcome = await self.run(survivor.key)
        reason = f"merged into {survivor.key}"
        return JobOutcome("merged", reason, str(gone), str(twin.key), outcome.writes)

    async def resolve_parents(self, source: Record) -> dict[str, object]:
        """Runs before mapping: sync each parent first, then point the record at its twin.

        Distinct parents are synced concurrently; the record is written only once all are.

        Raises:
            TransientError: a parent could not be synced yet; the record waits and retries.
        """
        (values,) = await self.parent_values(self.flow.depends_on, [source])
        return values

    async def parent_values(
        self, dependencies: Sequence[Dependency], records: Sequence[Record]
    ) -> list[dict[str, object]]:
        """The parent values of each record; every distinct parent synced once, all at once."""
        return await Parents(self.source, self.parents).values(dependencies, records)

    async def create_or_match(
        self, source: Record, link: LinkView | None, overrides: Mapping[str, object] | None
    ) -> JobOutcome:
        """Runs when the source has no twin yet: match first, else create with a chosen key."""
        if link is None and self.matcher is not None:
            matched = await self.match(source)
            if isinstance(matched, JobOutcome):
                return matched
            if matched is not None:
                return await self.update_pair(source, matched, None, overrides)
        if link is None and not self.flow.create_missing:
            return self.note(
                JobOutcome("skipped", "no twin, and the flow creates none", str(source.key))
            )
        # Header parents and line parents are independent of each other: sync them together.
        parents, lines = await settle_both(self.resolve_parents(source), self.map_lines(source))
        mapped = {**self.mapper.map(source.values, for_create=True), **parents}
        context = await self.lookup_context(source, mapped)
        payload = {**await self.look_up(self.flow.fields, mapped, context), **(overrides or {})}
        lines = await self.look_up_lines(lines, context)
        inherited = self._inherited(payload)
        lines = [(line, {**inherited, **values}) for line, values in lines]
        if self.flow.lines is not None and self.flow.lines.target is not None:
            payload[self.flow.lines.target] = [values for _, values in lines]
        await self.field_checks.check(payload, for_create=True, record_key=str(source.key))
        legal_entity = self.legal_entity(source)
        ident = render_key(
            self.flow.key.template, source=source.key, payload=payload, legal_entity=legal_entity
        )
        reserved = await asyncio.to_thread(
            self.binder.reserve,
            str(source.key),
            self.source.side,
            str(self.target.key(ident)),
            legal_entity,
        )
        if reserved.pending_key and reserved.state is LinkState.PENDING:
            ident = RecordKey.parse(reserved.pending_key).id
        created = await self.create(payload, ident)
        await self.create_lines(created, lines, legal_entity)
        written_back = await self.write_back(source, created, legal_entity)
        base = jsonable(self.base_view(source, payload))
        await asyncio.to_thread(
            self.settle,
            source,
            created,
            base,
            action="created",
            diff={"created": jsonable(payload)},
            written_back=written_back,
            legal_entity=legal_entity,
        )
        return JobOutcome("created", "", str(source.key), str(created.key), 1 + bool(written_back))

    def base_view(self, source: Record, payload: Values) -> dict[str, object]:
        """Runs after a create: the mapped view the next update compares with.

        Fields set by a lookup or rules hold what was written (a city's name), not what the
        field map alone gives (its id), or the next update would see them as changed.
        """
        looked_up = {e.target for e in self.flow.fields if e.lookup is not None or e.rules}
        view = self.mapper.map(source.values)
        return {k: payload.get(k, v) if k in looked_up else v for k, v in view.items()}

    def _inherited(self, payload: dict[str, object]) -> dict[str, object]:
        """Take the document's fields that its lines carry instead (``lines.inherit``)."""
        names = self.flow.lines.inherit if self.flow.lines is not None else ()
        moved = {name: payload.pop(name, None) for name in names}
        return {name: value for name, value in moved.items() if value is not None}

    async def read_lines(self, source: Record) -> list[Record]:
        """Runs before a create: the document's lines, from its child entity or embedded list."""
        spec = self.flow.lines
        if spec is None:
            return []
        if spec.entity is None or spec.parent_field is None:
            embedded = source.values.get(spec.field) or []
            if not isinstance(embedded, list):
                raise MappingError(f"{spec.field} is not a list of lines", field=spec.field)
            return [
                Record(
                    RecordKey(source.key.system, source.key.entity, f"{source.key.id}:{n}"),
                    line,
                    source.modified_on_utc,
                )  # fmt: skip
                for n, line in enumerate(embedded, 1)
            ]
        criteria = {spec.parent_field: source.key.id}
        async with self.source.slot():
            return list(await self.source.connector.search(spec.entity, criteria, limit=1000))

    async def map_lines(self, source: Record) -> list[tuple[Record, dict[str, object]]]:
        """Runs before a create: each line mapped, its parents synced (together) and pointed at."""
        spec = self.flow.lines
        if spec is None:
            return []
        lines = await self.read_lines(source)
        parents = await self.parent_values(spec.depends_on, lines)
        return [
            (line, {**self.mapper.map_line(line.values), **values})
            for line, values in zip(lines, parents, strict=True)
        ]

    async def create_lines(
        self,
        document: Record,
        lines: Sequence[tuple[Record, dict[str, object]]],
        legal_entity: str | None,
    ) -> None:
        """Runs after a create: lines kept as records of their own entity point at it."""
        spec = self.flow.lines
        if spec is None or spec.target_entity is None or spec.target_parent_field is None:
            return
        names = {"target_id": document.key.id, "target_key": str(document.key)}
        parent = render_template(spec.target_parent_value, names, document.values)
        writes = []
        for line, values in lines:
            payload = {**values, spec.target_parent_field: parent}
            key = None
            if spec.target_key is not None:
                fields = {**document.values, **payload}
                key = render_key(
                    spec.target_key, source=line.key, payload=fields, legal_entity=legal_entity
                )
            writes.append(self._create_line(spec.target_entity, payload, key))
        # Lines are independent of each other; the Governor's slots bound how many go at once.
        await settle_all(writes)

    async def _create_line(self, entity: str, payload: Values, key: str | None) -> None:
        try:
            async with self.target.slot():
                await self.target.connector.create(entity, payload, key)
        except AlreadyExistsError:
            pass  # a retried create already wrote this line under its chosen key

    async def match(self, source: Record) -> Record | JobOutcome | None:
        """Runs before a first create: tiered matching against the target (ambiguous: review)."""
        assert self.matcher is not None

        async def search(criteria: Values) -> list[Record]:
            async with self.target.slot():
                return list(await self.target.connector.search(self.target.entity, criteria))

        found = await self.matcher.search(
            source.values, search, legal_entity=self.legal_entity(source)
        )
        if found.kind is MatchKind.AMBIGUOUS:
            candidates = ", ".join(str(k) for k in found.candidates)
            raise ConflictError(
                f"ambiguous match on tier {found.tier}: {candidates}", record_key=str(source.key)
            )
        if found.kind is MatchKind.MATCHED and found.key is not None:
            return await self.read_side(self.target, str(found.key))
        return None

    async def create(self, payload: Values, ident: str) -> Record:
        """Runs once a key is reserved: create it, or find it when a retry already did."""
        try:
            async with self.target.slot():
                return await self.target.connector.create(self.target.entity, payload, ident)
        except AlreadyExistsError as exc:
            # The system names the existing record when it keys records itself (by an
            # external id); otherwise it is the key we reserved.
            existing = await self.read_side(self.target, str(self.target.key(exc.key or ident)))
            if existing is None:
                raise TransientError("the reserved key exists but cannot be read yet") from None
            return await self._catch_up(existing, payload)

    async def _catch_up(self, existing: Record, payload: Values) -> Record:
        # An attempt that died after its create made this record from older source values;
        # settling without writing the difference would record a base the target lacks.
        stale = {
            name: value
            for name, value in payload.items()
            if name in existing.values
            and not isinstance(value, list)
            and not same_value(existing.values[name], value)
        }
        if not stale:
            return existing
        async with self.target.slot():
            return await self.target.connector.update(
                self.target.entity, existing.key.id, stale, version=existing.version
            )

    async def write_back(
        self, source: Record, target: Record, legal_entity: str | None
    ) -> Record | None:
        """Runs after a create: write the target's key (or other facts) back to the source."""
        if not self.flow.writeback:
            return None
        names = {
            "target_id": target.key.id,
            "target_key": str(target.key),
            "legal_entity": legal_entity,
        }
        values = {
            wb.field: render_template(wb.value, names, target.values) for wb in self.flow.writeback
        }
        if all(source.values.get(k) == v for k, v in values.items()):
            return None
        async with self.source.slot():
            return await self.source.connector.update(self.source.entity, source.key.id, values)

    def legal_entity(self, source: Record) -> str | None:
        """The legal entity the flow's routing sends ``source`` to, if it routes."""
        routing = self.flow.routing
        if routing is None:
            return None
        route = routing.route_values(source.values)
        return route.legal_entity if route else None

    async def lookup_context(self, source: Record, mapped: Values) -> dict[str, object]:
        """Runs after mapping: what lookups read (source values, the mapped payload, context)."""
        if self.lookups is None:
            return dict(mapped)
        names = {"legal_entity": self.legal_entity(source)}
        context = self.lookups.base_context(source.values, names, mapped)
        return await self.lookups.context(self.flow.context, context)

    async def look_up(
        self, fields: Sequence[FieldMap], mapped: Values, context: Values
    ) -> dict[str, object]:
        """Runs after mapping: fields with a ``lookup`` take the value it finds."""
        if self.lookups is None:
            return dict(mapped)
        return await self.lookups.apply(fields, mapped, context)

    async def look_up_lines(
        self, lines: Sequence[tuple[Record, dict[str, object]]], context: Values
    ) -> list[tuple[Record, dict[str, object]]]:
        """Runs after the lines are mapped: line lookups, each in the document's context."""
        spec = self.flow.lines
        if self.lookups is None or spec is None:
            return list(lines)
        out = []
        for line, values in lines:
            scope = await self.lookups.context(spec.context, {**context, **line.values, **values})
            out.append((line, await self.lookups.apply(spec.fields, values, scope)))
        return out

    async def update_pair(
        self,
        source: Record,
        target: Record,
        link: LinkView | None,
        overrides: Mapping[str, object] | None,
    ) -> JobOutcome:
        """Runs when both records exist: three-way compare, then write each side's share."""
        mapped = {**self.mapper.map(source.values), **await self.resolve_parents(source)}
        context = await self.lookup_context(source, mapped)
        view = {**await self.look_up(self.flow.fields, mapped, context), **(overrides or {})}
        self._inherited(view)  # lines are written once, with the create
        reverse: Values = {}
        if self.flow.direction is FlowDirection.BOTH:
            reverse = self.mapper.map(target.values, direction=FieldDirection.TO_SOURCE)
        base = link.base_snapshot if link and link.state is LinkState.LINKED else None
        plan = plan_sync(
            self.flow, source_view=view, source=source, target=target, base=base, reverse=reverse
        )
        reviews = [r for r in plan.resolutions if r.verdict.value == "review"]
        if reviews:
            raise ConflictError(
                "conflict needs review on: " + ", ".join(r.field for r in reviews),
                record_key=str(source.key),
            )
        if not plan.is_noop:
            self.check_flapping(source)
        await self.field_checks.check(plan.to_target, for_create=False, record_key=str(source.key))
        await self.source_checks.check(plan.to_source, for_create=False, record_key=str(source.key))
        read_source, read_target = source, target
        target, source = await self.apply(plan, source, target)
        written_back = None
        if link is not None and link.state is LinkState.PENDING:
            # A create that died before its write-back: finish it now, or the source never
            # learns its twin's key (the retry finds the twin and sees nothing else to do).
            written_back = await self.write_back(source, target, link.legal_entity)
        action = "unchanged" if plan.is_noop else "updated"
        if link is None:
            action = "matched" if plan.is_noop else "matched_updated"
        await asyncio.to_thread(
            self.settle,
            source,
            target,
            plan.base,
            action=action,
            diff=plan.diff(),
            written_back=written_back,
            source_values={**read_source.values, **plan.to_source},
            target_values={**read_target.values, **plan.to_target},
        )
        writes = bool(plan.to_target) + bool(plan.to_source) + bool(written_back)
        return JobOutcome(action, "", str(source.key), str(target.key), writes, plan.diff())

    def check_flapping(self, source: Record) -> None:
        """Runs before an update: a pair synced back and forth too often is paused for review.

        Raises:
            ConflictError: the pair flaps; a person must look at what keeps changing it.
        """
        if self.flapping is None:
            return
        verdict = self.flapping.record_sync(str(source.key))
        if verdict.paused:
            raise ConflictError(
                f"flapping: synced {verdict.syncs_in_window} times in "
                f"{self.flow.flapping.window_min} min; paused until someone resumes it",
                record_key=str(source.key),
            )

    async def apply(self, plan: SyncPlan, source: Record, target: Record) -> tuple[Record, Record]:
        """Runs after planning: write the target's and the source's share of the plan."""
        if plan.to_target:
            async with self.target.slot():
                target = await self.target.connector.update(
                    self.target.entity, target.key.id, plan.to_target, version=target.version
                )
        if plan.to_source:
            async with self.source.slot():
                source = await self.source.connector.update(
                    self.source.entity, source.key.id, plan.to_source, version=source.version
                )
        return target, source

    def settle(
        self,
        source: Record,
        target: Record,
        base: dict[str, object],
        *,
        action: str,
        diff: dict[str, Any],
        written_back: Record | None = None,
        legal_entity: str | None = None,
        source_values: Values | None = None,
        target_values: Values | None = None,
    ) -> None:
        """Runs last: link, snapshot, ledger, record log and dead-letter closure, one commit.

        ``source_values``/``target_values`` are what each side holds as far as this sync
        knows (as read, plus what we wrote); they default to the records' own values.
        """
        synced = {
            self.source.side: source_values if source_values is not None else source.values,
            self.target.side: target_values if target_values is not None else target.values,
        }
        source = written_back or source
        crm, erp = (source, target) if self.source.side is Side.CRM else (target, source)
        with self._sessions.begin() as session:
            self.binder.bind(
                session,
                crm_key=str(crm.key),
                erp_key=str(erp.key),
                base_snapshot=base,
                legal_entity=legal_entity,
                crm_hash=hash_values(crm.values),
                erp_hash=hash_values(erp.values),
            )
            for end, record in ((self.target, target), (self.source, source)):
                fingerprint = self._fingerprint(end, synced[end.side])
                self.ledger.remember_in(session, str(record.key), fingerprint)
            self.log.add(
                session, flow=self.flow.name, record_key=str(source.key), action=action, diff=diff
            )
            self.dead_letters.resolve(session, self.flow.name, str(source.key))
