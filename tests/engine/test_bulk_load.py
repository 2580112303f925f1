"""BulkLoad end to end in one process: pages read ahead, page rows written, runs resumed.

The source makes Accounts up from their index (``cursor`` is the index of a page's first
record) and the target only keeps what it is sent, so these tests look at the engine alone:
what it reads and when, and what each page leaves in the database, on SQLite and PostgreSQL.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from benchmarks.bulk_memory import BulkOnly
from sqlalchemy import Table, insert, select

from syncloom.connectors.base import (
    ChangePage,
    EntitySpec,
    FieldSpec,
    Op,
    OpKind,
    OpResult,
    Record,
    RecordKey,
)
from syncloom.engine.bridge import LoopBridge
from syncloom.engine.bulk import BulkLoad
from syncloom.engine.bulk_rows import execute_rows
from syncloom.engine.bulk_settle import PageSettler
from syncloom.engine.clock import SystemClock
from syncloom.engine.flows import FieldDirection, load_flows
from syncloom.engine.hashing import hash_values
from syncloom.engine.installation import ConnectionInfo, Installation
from syncloom.errors import TransientError
from syncloom.store import make_engine, session_factory, upgrade
from syncloom.store.accounts import Accounts
from syncloom.store.models import (
    Connection,
    Link,
    LinkState,
    RecordLogEntry,
    Run,
    RunStatus,
    WriteLedgerEntry,
)
from tests.store.databases import fresh_pg_schema, fresh_sqlite

EPOCH = datetime(2025, 1, 1, tzinfo=UTC)
PAGE = 10
COUNT = 35  # four pages, the last one short
DOCUMENT = """
flows:
  - name: accounts
    source: {connection: crm, entity: Account}
    target: {connection: erp, entity: Customer}
    key: {template: "C{hash10}"}
    fields:
      - {source: Name, target: Name}
      - {source: Phone, target: Phone}
    writeback:
      - {field: ErpId, value: "{target_id}"}
"""


class Source(BulkOnly):
    """Accounts made up from their index; logs every call and how many were in flight."""

    system = "crm"

    def __init__(self, count: int, events: list[tuple[str, object]]) -> None:
        self.count = count
        self.events = events
        self.in_flight = 0
        self.most_in_flight = 0
        self.fail_at: str | None = None

    async def _call(self) -> None:
        self.in_flight += 1
        self.most_in_flight = max(self.most_in_flight, self.in_flight)
        try:
            await asyncio.sleep(0.005)  # long enough for another call to overlap, were it let
        finally:
            self.in_flight -= 1

    async def describe(self, entity: str) -> EntitySpec:
        fields = tuple(FieldSpec(name) for name in ("Name", "Phone", "ErpId"))
        return EntitySpec(entity, ("Id",), "ModifiedOn", fields, batch_size=4)

    async def read_changes(
        self, entity: str, since: datetime | None, cursor: str | None, page_size: int = 500
    ) -> ChangePage:
        self.events.append(("read", cursor))
        await self._call()
        if cursor is not None and cursor == self.fail_at:
            raise TransientError(f"read of page {cursor} timed out")
        start = int(cursor or 0)
        end = min(self.count, start + page_size)
        records = [
            Record(
                RecordKey("crm", "Account", f"{n:05d}"),
                {"Name": f"Account {n}", "Phone": f"+1 555 {n:04d}"},
                EPOCH + timedelta(seconds=n),
                str(n),
            )
            for n in range(start, end)
        ]
        return ChangePage(records, str(end) if end < self.count else None)

    async def batch(self, ops: Sequence[Op]) -> Sequence[OpResult]:
        self.events.append(("write-back", len(ops)))
        await self._call()
        return [OpResult(op) for op in ops]


class Target(BulkOnly):
    """An empty target that keeps every create it is sent."""

    system = "erp"

    def __init__(self) -> None:
        self.created: list[str] = []

    async def describe(self, entity: str) -> EntitySpec:
        return EntitySpec(entity, ("Id",), "ModifiedOn", (FieldSpec("Name"), FieldSpec("Phone")))

    async def read_changes(
        self, entity: str, since: datetime | None, cursor: str | None, page_size: int = 500
    ) -> ChangePage:
        return ChangePage([], None)

    async def batch(self, ops: Sequence[Op]) -> Sequence[OpResult]:
        out = []
        for op in ops:
            assert op.kind is OpKind.CREATE
            self.created.append(op.key or "")
            record = Record(RecordKey("erp", op.entity, op.key or ""), dict(op.values), EPOCH)
            out.append(OpResult(op, record))
        return out


@dataclass
class Bench:
    inst: Installation
    bridge: LoopBridge
    source: Source
    target: Target
    events: list[tuple[str, object]]

    def load(self) -> BulkLoad:
        return BulkLoad.for_flow(self.inst, "accounts", page_size=PAGE)


@contextmanager
def _bench(url: str) -> Iterator[Bench]:
    upgrade(url)
    engine = make_engine(url)
    sessions = session_factory(engine)
    with sessions.begin() as session:
        tenant = Accounts(session).create_tenant("bulk", "Bulk")
        ids = {}
        for name in ("crm", "erp"):
            row = Connection(tenant_id=tenant.id, name=name, system=name, base_url="inproc://")
            session.add(row)
            session.flush()
            ids[name] = row.id
        tenant_id = tenant.id
    events: list[tuple[str, object]] = []
    source, target = Source(COUNT, events), Target()
    bridge = LoopBridge()
    inst = Installation(
        tenant_id=tenant_id,
        document=load_flows(DOCUMENT),
        connections={
            "crm": ConnectionInfo(source, ids["crm"]),
            "erp": ConnectionInfo(target, ids["erp"]),
        },
        sessions=sessions,
        clock=SystemClock(),
        bridge=bridge,
    )
    try:
        yield Bench(inst, bridge, source, target, events)
    finally:
        bridge.close()
        engine.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.pg)])
def bench(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Bench]:
    if request.param == "sqlite":
        fresh = fresh_sqlite(tmp_path)
    else:
        fresh = fresh_pg_schema(request.getfixturevalue("pg_url"))
    with fresh as url, _bench(url) as b:
        yield b


@pytest.fixture
def sqlite_bench(tmp_path: Path) -> Iterator[Bench]:
    with fresh_sqlite(tmp_path) as url, _bench(url) as b:
        yield b


def test_a_load_leaves_each_record_linked_hashed_logged_and_in_the_ledger(bench):
    run = bench.bridge.run(bench.load().run())
    assert run.status is RunStatus.SUCCEEDED
    assert run.counts["created"] == COUNT
    assert len(set(bench.target.created)) == COUNT
    mapper = bench.inst.unit("accounts").job.mapper
    with bench.inst.sessions() as session:
        links = list(session.scalars(select(Link)))
        ledger = {e.record_key: e for e in session.scalars(select(WriteLedgerEntry))}
        log = list(session.scalars(select(RecordLogEntry)))
    assert len(links) == COUNT
    assert {link.state for link in links} == {LinkState.LINKED}
    assert len(log) == COUNT
    assert {entry.action for entry in log} == {"created"}
    assert {entry.run_id for entry in log} == {run.id}
    to_target = mapper.fields(FieldDirection.TO_TARGET)
    for link in links:
        n = int(link.crm_key.rsplit(":", 1)[1])
        source = {"Name": f"Account {n}", "Phone": f"+1 555 {n:04d}"}
        written_back = {**source, "ErpId": link.erp_key.rsplit(":", 1)[1]}
        # The values each hash was taken of, worked out here the long way.
        assert link.crm_hash == hash_values(written_back)
        assert link.erp_hash == hash_values(source)
        assert link.base_snapshot == source
        assert link.pending_key is None
        assert link.lease_owner is None
        assert link.synced_at is not None
        assert link.synced_at.tzinfo is not None
        assert link.updated_at.tzinfo is not None
        assert link.created_at.tzinfo is not None
        target = {k: v for k, v in source.items() if k in to_target}
        assert ledger[link.crm_key].values_hash == hash_values(mapper.map(written_back))
        assert ledger[link.erp_key].values_hash == hash_values(target)
        assert ledger[link.erp_key].system == "erp"
    # Rerunning writes nothing: every record is linked.
    again = bench.bridge.run(bench.load().run())
    assert again.counts["writes"] == 0
    assert again.counts["skipped_linked"] == COUNT


def test_the_next_page_is_read_while_a_page_settles_and_planned_only_after_its_checkpoint(
    sqlite_bench, monkeypatch
):
    bench = sqlite_bench
    load = bench.load()
    planned_after: list[tuple[str | None, int]] = []
    real_plan = load.plan
    real_settle = PageSettler.settle

    def plan(records, *args, **kwargs):  # type: ignore[no-untyped-def]
        run_id = max(load._marks)  # the run being planned
        committed = load.checkpoint(run_id)
        first = int(records[0].key.id) if records else None
        planned_after.append((committed.get("cursor"), first or 0))
        return real_plan(records, *args, **kwargs)

    def settle(self, session, planned, writes, run_id):  # type: ignore[no-untyped-def]
        bench.events.append(("settle", str(planned[0].source.key.id)))
        return real_settle(self, session, planned, writes, run_id)

    monkeypatch.setattr(load, "plan", plan)
    monkeypatch.setattr(PageSettler, "settle", settle)
    run = bench.bridge.run(load.run())
    assert run.counts["read"] == COUNT
    # Each page was planned only once the checkpoint naming its cursor had committed.
    for cursor, first in planned_after:
        assert int(cursor or 0) == first
    reads = [cursor for kind, cursor in bench.events if kind == "read"]
    assert len(reads) == len(set(reads))  # no page was read twice
    # The read of page 2 went out before page 1 settled: it was read ahead.
    assert bench.events.index(("read", str(PAGE))) < bench.events.index(("settle", "00000"))
    # The source never had two calls in flight: the read ahead waits for the write-backs.
    assert bench.source.most_in_flight == 1


def test_a_run_stopped_between_pages_resumes_at_its_checkpoint_and_creates_each_once(
    sqlite_bench,
):
    bench = sqlite_bench
    load = bench.load()

    class Killed(Exception):
        """Stands for the process dying right after a page's checkpoint."""

    def die_after_page_2(progress):  # type: ignore[no-untyped-def]
        if progress.pages == 2:
            raise Killed

    with pytest.raises(Killed):
        bench.bridge.run(load.run(progress=die_after_page_2))
    assert load.reader.pending is None  # the page read ahead was dropped, never settled
    with bench.inst.sessions() as session:
        (run,) = session.scalars(select(Run))
        assert run.status is RunStatus.FAILED
        assert run.counts["checkpoint"]["pages"] == 2
        assert run.counts["checkpoint"]["cursor"] == str(2 * PAGE)
        assert session.query(Link).count() == 2 * PAGE
    before = len(bench.events)
    resumed = bench.bridge.run(bench.load().resume(run.id))
    assert resumed.status is RunStatus.SUCCEEDED
    # The resumed run read page 3 itself (the other load's read ahead is gone with it).
    assert ("read", str(2 * PAGE)) in bench.events[before:]
    assert sorted(bench.target.created) == sorted(set(bench.target.created))
    assert resumed.counts["created"] == COUNT


def test_a_failed_read_ahead_fails_the_run_at_that_page_and_a_resume_reads_it_again(
    sqlite_bench,
):
    bench = sqlite_bench
    bench.source.fail_at = str(PAGE)
    with pytest.raises(TransientError):
        bench.bridge.run(bench.load().run())
    with bench.inst.sessions() as session:
        (run,) = session.scalars(select(Run))
        # Page 1 settled though its read ahead had failed meanwhile.
        assert run.counts["checkpoint"]["pages"] == 1
        assert run.counts["created"] == PAGE
    bench.source.fail_at = None
    resumed = bench.bridge.run(bench.load().resume(run.id))
    assert resumed.status is RunStatus.SUCCEEDED
    assert resumed.counts["created"] == COUNT
    assert len(bench.target.created) == COUNT


def test_a_load_without_read_ahead_reads_one_page_at_a_time(sqlite_bench, monkeypatch):
    bench = sqlite_bench
    load = BulkLoad.for_flow(bench.inst, "accounts", page_size=PAGE, read_ahead=False)
    real_settle = PageSettler.settle

    def settle(self, session, planned, writes, run_id):  # type: ignore[no-untyped-def]
        bench.events.append(("settle", str(planned[0].source.key.id)))
        return real_settle(self, session, planned, writes, run_id)

    monkeypatch.setattr(PageSettler, "settle", settle)
    bench.bridge.run(load.run())
    assert bench.events.index(("read", str(PAGE))) > bench.events.index(("settle", "00000"))


def test_page_rows_must_give_every_defaulted_column(bench):
    row = {
        "tenant_id": bench.inst.tenant_id,
        "system": "x",
        "record_key": "x:1",
        "values_hash": "h",
    }
    table = WriteLedgerEntry.__table__
    assert isinstance(table, Table)
    with bench.inst.sessions.begin() as session, pytest.raises(ValueError, match="written_at"):
        execute_rows(session, insert(table), [row])
    now = datetime.now(UTC)
    rows = [{**row, "record_key": f"x:{n}", "written_at": now, "created_at": now} for n in range(3)]
    with bench.inst.sessions.begin() as session:
        execute_rows(session, insert(table), rows)
    with bench.inst.sessions() as session:
        stored = list(
            session.scalars(select(WriteLedgerEntry).where(WriteLedgerEntry.system == "x"))
        )
    assert sorted(e.record_key for e in stored) == ["x:0", "x:1", "x:2"]
    assert {e.written_at for e in stored} == {now}
