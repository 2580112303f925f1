"""Peak memory of a very large bulk load (1M records by default).

Run with ``.venv/bin/python -m benchmarks.bulk_memory [--quick] [--records N]``. The simulators
keep every row in memory and would not hold a million on a small machine, so this benchmark
uses two in-process connectors instead: a source that *generates* Accounts page by page from
their index (nothing is stored) and a sink target that keeps only the keys it was sent. The
engine in between is the real one: BulkLoad with its SQLite file, target prefetch, planning,
reservations, the record log, the write ledger and checkpoints. What is measured is the
process's peak resident set (``ru_maxrss``), so it includes the interpreter and libraries; the
baseline before the load is printed next to it.
"""

from __future__ import annotations

import argparse
import resource
import tempfile
import time
from collections.abc import AsyncIterator, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

from syncloom.connectors.base import (
    ChangePage,
    EntitySpec,
    FieldSpec,
    Op,
    OpResult,
    Record,
    RecordKey,
    Values,
)
from syncloom.engine.bridge import LoopBridge
from syncloom.engine.budget import Limits
from syncloom.engine.bulk import BulkLoad
from syncloom.engine.clock import SystemClock
from syncloom.engine.flows import load_flows
from syncloom.engine.installation import ConnectionInfo, Installation
from syncloom.errors import NotFoundError
from syncloom.store import make_engine, session_factory, upgrade
from syncloom.store.accounts import Accounts
from syncloom.store.models import Connection

PAGE = 1000
EPOCH = datetime(2025, 1, 1, tzinfo=UTC)
DOCUMENT = """
flows:
  - name: accounts
    source: {connection: crm, entity: Account}
    target: {connection: erp, entity: Customer}
    key: {template: "C{hash10}"}
    fields:
      - {source: Name, target: Name}
      - {source: Phone, target: Phone}
      - {source: City, target: City}
"""


class BulkOnly:
    """A connector that serves pages and batches only; a bulk load calls nothing else."""

    async def get(self, entity: str, key: str) -> Record | None:
        return None

    async def search(self, entity: str, criteria: Values, limit: int = 50) -> Sequence[Record]:
        return []

    async def create(self, entity: str, values: Values, key: str | None = None) -> Record:
        raise NotFoundError("not used by a bulk load")

    async def update(
        self, entity: str, key: str, values: Values, version: str | None = None
    ) -> Record:
        raise NotFoundError("not used by a bulk load")

    async def delete(self, entity: str, key: str) -> None:
        raise NotFoundError("not used by a bulk load")

    async def aclose(self) -> None:
        return None

    async def iter_keys(self, entity: str, page_size: int = 1000) -> AsyncIterator[Sequence[str]]:
        yield []


class GeneratedSource(BulkOnly):
    """Accounts made up from their index on every read: a source of any size, no storage."""

    system = "gen"

    def __init__(self, count: int) -> None:
        self.count = count

    async def describe(self, entity: str) -> EntitySpec:
        fields = tuple(FieldSpec(name) for name in ("Name", "Phone", "City"))
        return EntitySpec(entity, ("Id",), "ModifiedOn", fields, batch_size=1000)

    def record(self, n: int) -> Record:
        return Record(
            key=RecordKey("gen", "Account", f"{n:08d}"),
            values={"Name": f"Account {n}", "Phone": f"+1 555 {n % 10_000:04d}", "City": "Oslo"},
            modified_on_utc=EPOCH + timedelta(seconds=n),
            version=str(n),
        )

    async def read_changes(
        self, entity: str, since: datetime | None, cursor: str | None, page_size: int = 500
    ) -> ChangePage:
        start = int(cursor or 0)
        end = min(self.count, start + page_size)
        records = [self.record(n) for n in range(start, end)]
        return ChangePage(records, str(end) if end < self.count else None)

    async def batch(self, ops: Sequence[Op]) -> Sequence[OpResult]:
        return [OpResult(op) for op in ops]

    async def iter_keys(self, entity: str, page_size: int = 1000) -> AsyncIterator[Sequence[str]]:
        for start in range(0, self.count, page_size):
            yield [f"{n:08d}" for n in range(start, min(self.count, start + page_size))]


class KeySink(BulkOnly):
    """A target that accepts creates and only counts them (its memory is not the engine's)."""

    system = "sink"

    def __init__(self) -> None:
        self.created = 0

    async def describe(self, entity: str) -> EntitySpec:
        return EntitySpec(entity, ("Id",), "ModifiedOn", (FieldSpec("Name"),), batch_size=1000)

    async def read_changes(
        self, entity: str, since: datetime | None, cursor: str | None, page_size: int = 500
    ) -> ChangePage:
        return ChangePage([], None)  # an empty target: a first load

    async def batch(self, ops: Sequence[Op]) -> Sequence[OpResult]:
        out = []
        for op in ops:
            key = op.key or ""
            self.created += 1
            record = Record(RecordKey("sink", op.entity, key), dict(op.values), EPOCH, "1")
            out.append(OpResult(op, record))
        return out


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB


def load(records: int, workdir: Path) -> tuple[int, float, float, int]:
    """Run the load; returns (created, seconds, peak MB before the load, sink size)."""
    url = f"sqlite:///{workdir / 'bench.db'}"
    upgrade(url)
    sessions = session_factory(make_engine(url))
    with sessions.begin() as session:
        tenant = Accounts(session).create_tenant("bench", "Bench")
        ids = {}
        for name in ("crm", "erp"):
            row = Connection(tenant_id=tenant.id, name=name, system=name, base_url="inproc://")
            session.add(row)
            session.flush()
            ids[name] = row.id
        tenant_id = tenant.id
    source, sink = GeneratedSource(records), KeySink()
    limits = Limits(rate_per_s=1_000_000, burst=100_000, max_in_flight=64)
    bridge = LoopBridge()
    inst = Installation(
        tenant_id=tenant_id,
        document=load_flows(DOCUMENT),
        connections={
            "crm": ConnectionInfo(source, ids["crm"], limits),
            "erp": ConnectionInfo(sink, ids["erp"], limits),
        },
        sessions=sessions,
        clock=SystemClock(),
        bridge=bridge,
    )
    baseline = _peak_mb()
    try:
        started = time.perf_counter()
        run = bridge.run(BulkLoad.for_flow(inst, "accounts", page_size=PAGE).run())
        seconds = time.perf_counter() - started
    finally:
        bridge.close()
    return int(run.counts.get("created", 0)), seconds, baseline, sink.created


def main(argv: Sequence[str] | None = None) -> int:
    """Run the load and print its rate and the peak memory; non-zero over the budget."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="50,000 records instead of 1M")
    parser.add_argument("--records", type=int, default=None)
    parser.add_argument("--budget-mb", type=float, default=400.0)
    args = parser.parse_args(argv)
    records = args.records or (50_000 if args.quick else 1_000_000)
    with tempfile.TemporaryDirectory() as tmp:
        created, seconds, baseline, sunk = load(records, Path(tmp))
    peak = _peak_mb()
    print(
        f"{created} created ({sunk} in the sink) in {seconds:.1f} s = "
        f"{created / seconds:.0f} records/s; peak RSS {peak:.0f} MB "
        f"(before the load {baseline:.0f} MB; budget {args.budget_mb:.0f} MB)"
    )
    return 0 if created == records and peak <= args.budget_mb else 1


if __name__ == "__main__":
    raise SystemExit(main())
