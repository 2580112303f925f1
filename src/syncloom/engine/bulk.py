"""BulkLoad: the initial load or a backfill of one flow, a page at a time.

How do thousands of records get across without one workflow per record? The run reads the
target once into a :class:`~syncloom.engine.bulk_index.TargetSnapshot`, then pages through the
source's changes (all of them, or since a backfill date). Each page is planned against the
snapshot (linked records skipped, twins matched, ambiguous matches left to review), its
reservations and leases committed before any write, its creates and updates written in the
target's batch size, its write-backs in the source's, and its links, ledger entries, record-log
entries and checkpoint committed in one transaction. A page is the unit of durability: run
under :mod:`syncloom.engine.bulk_jobs` each page is a durable step, and a run that dies
resumes at the page after its last checkpoint. Rerunning a finished load writes nothing.
The next page is read while a page is planned, written and settled, and taken only once that
page's checkpoint has committed (:mod:`~syncloom.engine.bulk_ahead`).

A full load that succeeds with nothing deferred seeds the source side's polling watermark
with the newest modified-on it read (the source's own time, as a poll would), so the first
poll afterwards reads what changed since the load instead of the whole table.

Example::

    load = BulkLoad.for_flow(installation, "accounts")
    summary = await load.run(progress=print)
    report = await load.dry_run()
"""

from __future__ import annotations

import dataclasses
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from syncloom.connectors.base import ChangePage, Record
from syncloom.engine.bulk_ahead import PageReader
from syncloom.engine.bulk_binder import PageBinder
from syncloom.engine.bulk_index import TargetSnapshot, prefetch
from syncloom.engine.bulk_plan import Action, PagePlanner, Planned
from syncloom.engine.bulk_report import DryRunReport
from syncloom.engine.bulk_settle import PageSettler
from syncloom.engine.bulk_writer import PageWriter
from syncloom.engine.clock import Clock
from syncloom.engine.flows import Flow
from syncloom.engine.installation import Installation
from syncloom.engine.lookups import LookupRunner, uses_lookups
from syncloom.engine.mapper import FieldMapMapper
from syncloom.engine.matcher import Matcher
from syncloom.engine.record_job import FlowSide
from syncloom.engine.watermarks import Watermark, WatermarkStore
from syncloom.errors import ConfigError, MappingError
from syncloom.store.models import Run, RunKind, RunStatus
from syncloom.vault import Vault

__all__ = ["BulkLoad", "BulkProgress", "PageOutcome"]

_SEEN_LIMIT = 10_000


@dataclass(frozen=True)
class BulkProgress:
    """Where a run stands after a page, for a progress bar."""

    run_id: int | None
    pages: int
    read: int
    counts: Mapping[str, int]
    done: bool = False


ProgressCallback = Callable[[BulkProgress], None]


@dataclass(frozen=True)
class PageOutcome:
    """One settled page: the cursor of the next one and what the page did."""

    cursor: str | None
    read: int
    counts: dict[str, int] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        """A JSON-ready form for the runtime's checkpoint."""
        return {"cursor": self.cursor, "read": self.read, "counts": self.counts}


class BulkLoad:
    """A paged, resumable load of one flow's source records into its target."""

    def __init__(
        self,
        *,
        flow: Flow,
        source: FlowSide,
        target: FlowSide,
        mapper: FieldMapMapper,
        sessions: sessionmaker[Session],
        tenant_id: int,
        clock: Clock,
        matcher: Matcher | None = None,
        page_size: int = 500,
        lease_ttl: timedelta = timedelta(minutes=10),
        refresh_linked: bool = False,
        poll_overlap: timedelta = timedelta(minutes=2),
        vault: Vault | None = None,
        lookups: LookupRunner | None = None,
        read_ahead: bool = True,
    ) -> None:
        self.flow = flow
        self.lookups = lookups
        self.source = source
        self.target = target
        self.mapper = mapper
        self.tenant_id = tenant_id
        self.page_size = page_size
        self.lease_ttl = lease_ttl
        self.refresh_linked = refresh_linked
        self.poll_overlap = poll_overlap
        self._sessions = sessions
        self._vault = vault
        # Per run: the watermark a poll would hold after reading what the run read.
        self._marks: dict[int, Watermark] = {}
        self._clock = clock
        self.matcher = matcher or (Matcher.from_rules(flow.match) if flow.match.tiers else None)
        # The next source page is read while the current one is planned, written and settled.
        self.reader = PageReader(source, page_size, read_ahead=read_ahead)
        self.writer = PageWriter(
            flow=flow, source=source, target=target, source_gate=self.reader.gate
        )
        self.snapshot: TargetSnapshot | None = None

    @classmethod
    def for_flow(cls, inst: Installation, flow: str, **options: Any) -> BulkLoad:
        """The bulk load of one live flow, sharing its sides, budgets and mapper.

        Raises:
            ConfigError: the installation has no such flow.
        """
        job = inst.unit(flow).job
        options.setdefault("poll_overlap", inst.poll_overlap)
        return cls(
            flow=job.flow,
            source=job.source,
            target=job.target,
            mapper=job.mapper,
            sessions=inst.sessions,
            tenant_id=inst.tenant_id,
            clock=inst.clock,
            matcher=job.matcher,
            vault=inst.log.vault,
            lookups=job.lookups,
            **options,
        )

    # -- the run ------------------------------------------------------------------------
    async def run(
        self,
        *,
        since: datetime | None = None,
        progress: ProgressCallback | None = None,
        run_id: int | None = None,
    ) -> Run:
        """Load every source record (modified at or after ``since``), page by page.

        Args:
            since: a backfill's start (UTC); ``None`` loads everything.
            progress: called after each settled page (and once at the end).
            run_id: an earlier run to resume at its checkpoint (see :meth:`resume`).

        Returns:
            The finished ``runs`` row (kind bulk or backfill, counts, status).

        Raises:
            SyncError: a page failed as a whole (a read or a batch call); the run is marked
                failed and may be resumed.
        """
        if run_id is None:
            run_id = self.start(since=since)
        checkpoint = self.checkpoint(run_id)
        cursor, pages = checkpoint.get("cursor"), int(checkpoint.get("pages", 0))
        try:
            while pages == 0 or cursor is not None:
                outcome = await self.run_page(run_id, since, cursor)
                cursor, pages = outcome.cursor, pages + 1
                if progress is not None:
                    progress(self.progress(run_id))
        except BaseException as exc:
            self.reader.discard()
            self.finish(run_id, RunStatus.FAILED, f"{type(exc).__name__}: {exc}")
            raise
        run = self.finish(run_id, RunStatus.SUCCEEDED)
        if progress is not None:
            progress(dataclasses.replace(self.progress(run_id), done=True))
        return run

    async def resume(self, run_id: int, progress: ProgressCallback | None = None) -> Run:
        """Carry on a run that stopped (failed, or killed) from its last settled page."""
        since = self.checkpoint(run_id).get("since")
        when = datetime.fromisoformat(since) if since else None
        with self._sessions.begin() as session:
            self._run(session, run_id).status = RunStatus.RUNNING
        return await self.run(since=when, progress=progress, run_id=run_id)

    async def run_page(
        self, run_id: int, since: datetime | None, cursor: str | None
    ) -> PageOutcome:
        """Read, plan, claim, write and settle one source page; the durable step of a run.

        The page after it is read meanwhile (see :mod:`~syncloom.engine.bulk_ahead`), and
        taken only by the call for its cursor, once this page's checkpoint has committed.
        """
        snapshot = await self.prepare()
        self.reader.page_size = self.page_size  # a caller may have changed it since
        page = await self.reader.read(run_id, since, cursor)
        try:
            return await self._settle_page(run_id, since, page, snapshot)
        except BaseException:
            self.reader.discard()
            raise

    async def _settle_page(
        self, run_id: int, since: datetime | None, page: ChangePage, snapshot: TargetSnapshot
    ) -> PageOutcome:
        records = list(page.records)
        newest = max((r.modified_on_utc for r in records), default=None)
        # Only versions inside the overlap window matter to a poll: hash just those.
        edge = [r for r in records if newest and r.modified_on_utc >= newest - self.poll_overlap]
        mark = (self._marks.get(run_id) or Watermark()).advanced(edge, self.poll_overlap)
        if len(mark.seen) > _SEEN_LIMIT:
            # Thousands of records on one modified-on (a mass import): keep the value only,
            # so the run's memory stays bounded; the first poll re-reads that window.
            mark = Watermark(mark.value_utc)
        self._marks[run_id] = mark
        binder = self._binder(run_id)
        planned = binder.claim(self.plan(records, snapshot, binder, await self.look_up(records)))
        writes = await self.writer.write(planned)
        settler = PageSettler(
            tenant_id=self.tenant_id,
            flow=self.flow.name,
            source_side=self.source.side,
            mapper=self.mapper,
            binder=binder,
            clock=self._clock,
            vault=self._vault,
        )
        with self._sessions.begin() as session:
            counts = settler.settle(session, planned, writes, run_id)
            counts["read"] = len(page.records)
            counts["writes"] = writes.target_ops + writes.source_ops
            counts["calls"] = writes.calls
            counts["written_back"] = writes.written_back
            self._advance(session, run_id, page.cursor, counts, newest)
        if snapshot.index is not None or self.refresh_linked:
            # Only a match or a refresh looks a written record up again; otherwise keeping
            # every created record would grow the run's memory with the size of the load.
            for record in writes.targets.values():
                snapshot.add(record)
        return PageOutcome(page.cursor, len(page.records), dict(counts))

    async def prepare(self) -> TargetSnapshot:
        """Prefetch the target once per run (and once per process when resumed)."""
        if self.flow.aggregate is not None:
            raise ConfigError(
                f"flow {self.flow.name!r} reads its source as groups; a bulk load reads records "
                "one by one, so it cannot load it: poll the flow instead"
            )
        if self.snapshot is None:
            snapshot = await prefetch(self.target, self.matcher)
            async with self.target.slot():
                snapshot.spec = await self.target.connector.describe(self.target.entity)
            self.snapshot = snapshot
        return self.snapshot

    async def look_up(self, records: Sequence[Record]) -> dict[str, dict[str, object]]:
        """Runs before planning a page: each record's looked-up fields, by source key."""
        if self.lookups is None or not uses_lookups(self.flow):
            return {}
        out = {}
        for record in records:
            try:
                mapped = {
                    **self.mapper.map(record.values),
                    **self.mapper.map(record.values, for_create=True),
                }
                routing = self.flow.routing
                route = routing.route_values(record.values) if routing else None
                legal_entity = route.legal_entity if route else None
                out[str(record.key)] = await self.lookups.overlay(
                    self.flow, record.values, mapped, legal_entity
                )
            except MappingError:
                continue  # planning maps the record again and reports the failure
        return out

    def plan(
        self,
        records: Sequence[Record],
        snapshot: TargetSnapshot,
        binder: PageBinder,
        looked_up: Mapping[str, Mapping[str, object]] | None = None,
    ) -> list[Planned]:
        """Plan a page: links read in one query, twins taken by other records sent to review."""
        planner = PagePlanner(
            flow=self.flow,
            source=self.source,
            target=self.target,
            mapper=self.mapper,
            snapshot=snapshot,
            refresh_linked=self.refresh_linked,
            looked_up=looked_up,
        )
        planned = planner.plan(records, binder.links([str(r.key) for r in records]))
        fresh = [p.target_key for p in planned if p.matched and p.link_id is None and p.target_key]
        taken = binder.taken(fresh)
        out: list[Planned] = []
        for item in planned:
            if item.matched and item.link_id is None and item.target_key in taken:
                reason = f"matched {item.target_key}, which is linked to another record"
                item = dataclasses.replace(item, action=Action.REVIEW, reason=reason)
            elif item.matched and item.link_id is None:
                taken.add(item.target_key or "")
            out.append(item)
        return out

    # -- dry run ------------------------------------------------------------------------
    async def dry_run(self, *, since: datetime | None = None, limit: int = 50) -> DryRunReport:
        """Plan every page as a run would, and write nothing anywhere.

        Args:
            since: a backfill's start (UTC); ``None`` plans the whole source.
            limit: how many examples each list of the report keeps.
        """
        snapshot = await self.prepare()
        binder = self._binder(None)
        report = DryRunReport(self.flow.name, limit=limit)
        reader = PageReader(self.source, self.page_size, read_ahead=self.reader.read_ahead)
        cursor: str | None = None
        try:
            while True:
                page = await reader.read(None, since, cursor)
                looked_up = await self.look_up(page.records)
                report.add(self.plan(page.records, snapshot, binder, looked_up))
                report.pages += 1
                cursor = page.cursor
                if cursor is None:
                    return report
        finally:
            reader.discard()

    # -- the runs row -------------------------------------------------------------------
    def start(self, *, since: datetime | None = None, workflow_id: str | None = None) -> int:
        """Open the ``runs`` row of a new run; returns its id."""
        kind = RunKind.BACKFILL if since is not None else RunKind.BULK
        checkpoint = {"since": since.isoformat() if since else None, "cursor": None, "pages": 0}
        with self._sessions.begin() as session:
            run = Run(
                tenant_id=self.tenant_id,
                flow=self.flow.name,
                kind=kind,
                status=RunStatus.RUNNING,
                counts={"checkpoint": checkpoint},
                workflow_id=workflow_id,
            )
            session.add(run)
            session.flush()
            return run.id

    def checkpoint(self, run_id: int) -> dict[str, Any]:
        """The run's last settled position: ``since``, ``cursor`` and ``pages``."""
        with self._sessions() as session:
            return dict(self._run(session, run_id).counts.get("checkpoint") or {})

    def progress(self, run_id: int) -> BulkProgress:
        """The run's counts as a progress report."""
        with self._sessions() as session:
            counts = dict(self._run(session, run_id).counts)
        checkpoint = counts.pop("checkpoint", {}) or {}
        return BulkProgress(run_id, int(checkpoint.get("pages", 0)), counts.get("read", 0), counts)

    def finish(self, run_id: int, status: RunStatus, error: str | None = None) -> Run:
        """Close the run with its status (and error text), releasing every lease it holds.

        A full load that succeeded with nothing deferred also seeds the polling watermark.
        """
        self.reader.discard()
        with self._sessions.begin() as session:
            self._binder(run_id).release_all(session)
            run = self._run(session, run_id)
            run.status, run.error = status, error
            if status is RunStatus.SUCCEEDED:
                self._seed_watermark(session, run)
            run.finished_at = self._clock.now_utc()
            session.flush()
            session.expunge(run)
            return run

    def _advance(
        self,
        session: Session,
        run_id: int,
        cursor: str | None,
        page: Counter[str],
        newest: datetime | None = None,
    ) -> None:
        run = self._run(session, run_id)
        counts: Counter[str] = Counter({k: v for k, v in run.counts.items() if k != "checkpoint"})
        counts.update(page)
        checkpoint = dict(run.counts.get("checkpoint") or {})
        checkpoint["cursor"] = cursor
        checkpoint["pages"] = int(checkpoint.get("pages", 0)) + 1
        high = checkpoint.get("newest")
        if newest is not None and (high is None or datetime.fromisoformat(high) < newest):
            checkpoint["newest"] = newest.isoformat()
        run.counts = {**counts, "checkpoint": checkpoint}

    def _seed_watermark(self, session: Session, run: Run) -> None:
        # Only a full load read everything below its newest modified-on; a record deferred
        # by a transient error is left to the polls, which then still read the whole table.
        mark = self._marks.pop(run.id, None)
        newest = (run.counts.get("checkpoint") or {}).get("newest")
        if run.kind is not RunKind.BULK or run.counts.get("deferred") or newest is None:
            return
        value = datetime.fromisoformat(newest)
        if mark is None or mark.value_utc != value:
            # Resumed in another process: the value only; the first poll then re-reads the
            # overlap window (and each record job finds its link) instead of the table.
            mark = Watermark(value)
        WatermarkStore(self.tenant_id).raise_to(
            session.connection(), self.flow.name, self.source.side.value, mark
        )

    def _run(self, session: Session, run_id: int) -> Run:
        run = session.get(Run, run_id)
        if run is None or run.tenant_id != self.tenant_id or run.flow != self.flow.name:
            raise ConfigError(f"no run {run_id} of flow {self.flow.name!r}")
        return run

    def _binder(self, run_id: int | None) -> PageBinder:
        return PageBinder(
            self._sessions,
            tenant_id=self.tenant_id,
            flow=self.flow.name,
            source_side=self.source.side,
            clock=self._clock,
            owner=f"bulk:{run_id}",
            lease_ttl=self.lease_ttl,
            vault=self._vault,
        )
