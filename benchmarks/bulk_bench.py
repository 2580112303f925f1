"""Bulk load benchmark: BulkLoad vs a bare loop writing the same batches to the same simulator.

Run with ``.venv/bin/python -m benchmarks.bulk_bench [--quick] [--records N]``. Both sides
start from the same seeded Creatio simulator (``N`` Accounts) and an almost empty Intacct
simulator, and create one customer per Account in batches of the target's batch size. The bare
loop only reads pages, maps and calls ``batch``; BulkLoad adds the target prefetch, matching,
reservations and leases, the record log, the write ledger and a checkpoint per page, all in a
SQLite file. The ratio is the price of those guarantees. The simulators run in threads of the
same process, so client and servers share the interpreter: compare the two figures with each
other, not with a real tenant.
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

from syncloom.connectors.base import Op, OpKind
from syncloom.connectors.creatio import CreatioConnector
from syncloom.connectors.intacct import IntacctConnector, IntacctCredentials
from syncloom.engine.bridge import LoopBridge
from syncloom.engine.budget import Limits
from syncloom.engine.bulk import BulkLoad
from syncloom.engine.clock import SystemClock
from syncloom.engine.flows import load_flows
from syncloom.engine.installation import ConnectionInfo, Installation
from syncloom.engine.keys import render_key
from syncloom.engine.mapper import FieldMapMapper
from syncloom.simulators.common.server import SimulatorServer
from syncloom.simulators.creatio.app import CreatioSimulator
from syncloom.simulators.intacct.app import IntacctSimulator
from syncloom.store import make_engine, session_factory, upgrade
from syncloom.store.accounts import Accounts
from syncloom.store.models import Connection

INTACCT = IntacctCredentials("simsender", "simsenderpw", "SIMCO", "admin", "admin")
PAGE = 500
DOCUMENT = """
flows:
  - name: accounts
    source: {connection: crm, entity: Account}
    target: {connection: erp, entity: CUSTOMER}
    key: {template: "SL{hash10}"}
    fields:
      - {source: Name, target: NAME}
      - {source: Phone, target: DISPLAYCONTACT.PHONE1}
      - {source: UsrCreditLimit, target: CREDITLIMIT}
"""


def _crm(url: str) -> CreatioConnector:
    return CreatioConnector(url, username="Supervisor", password="Supervisor")


async def bare_loop(crm_url: str, erp_url: str) -> int:
    """Read every Account page, map it, create the customers 100 per batch call."""
    flow = load_flows(DOCUMENT).flow("accounts")
    mapper = FieldMapMapper.from_flow(flow, value_maps={})
    crm, erp = _crm(crm_url), IntacctConnector(erp_url, INTACCT)
    written, cursor = 0, None
    while True:
        page = await crm.read_changes("Account", None, cursor, PAGE)
        ops = []
        for record in page.records:
            payload = mapper.map(record.values, for_create=True)
            ident = render_key(flow.key.template, source=record.key, payload=payload)
            ops.append(Op(OpKind.CREATE, "CUSTOMER", ident, payload))
        for start in range(0, len(ops), 100):
            results = await erp.batch(ops[start : start + 100])
            written += sum(r.ok for r in results)
        cursor = page.cursor
        if cursor is None:
            break
    await crm.aclose()
    await erp.aclose()
    return written


def engine_load(crm_url: str, erp_url: str, workdir: Path) -> tuple[int, float]:
    """The same load through BulkLoad, with its database in ``workdir`` (set-up not timed)."""
    url = f"sqlite:///{workdir / 'bench.db'}"
    upgrade(url)
    sessions = session_factory(make_engine(url))
    with sessions.begin() as session:
        tenant = Accounts(session).create_tenant("bench", "Bench")
        ids = {}
        for name, system in (("crm", "creatio"), ("erp", "intacct")):
            row = Connection(tenant_id=tenant.id, name=name, system=system, base_url=crm_url)
            session.add(row)
            session.flush()
            ids[name] = row.id
        tenant_id = tenant.id
    bridge = LoopBridge()
    crm, erp = _crm(crm_url), IntacctConnector(erp_url, INTACCT)
    limits = Limits(rate_per_s=10_000, burst=1_000, max_in_flight=64)
    inst = Installation(
        tenant_id=tenant_id,
        document=load_flows(DOCUMENT),
        connections={
            "crm": ConnectionInfo(crm, ids["crm"], limits),
            "erp": ConnectionInfo(erp, ids["erp"], limits),
        },
        sessions=sessions,
        clock=SystemClock(),
        bridge=bridge,
    )
    try:
        started = time.perf_counter()
        run = bridge.run(BulkLoad.for_flow(inst, "accounts", page_size=PAGE).run())
        return int(run.counts.get("created", 0)), time.perf_counter() - started
    finally:
        bridge.run(crm.aclose())
        bridge.run(erp.aclose())
        bridge.close()


def measure(records: int, mode: str) -> tuple[int, float]:
    """Start fresh simulators and time one load; returns (customers written, seconds)."""
    with (
        SimulatorServer(CreatioSimulator(records=records)) as crm,
        SimulatorServer(IntacctSimulator(records=1)) as erp,
        tempfile.TemporaryDirectory() as tmp,
    ):
        if mode == "bulk":
            return engine_load(crm.base_url, erp.base_url, Path(tmp))
        started = time.perf_counter()
        written = asyncio.run(bare_loop(crm.base_url, erp.base_url))
        return written, time.perf_counter() - started


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark and print records/s of both loads and their ratio."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="500 records instead of 5,000")
    parser.add_argument("--records", type=int, default=None)
    args = parser.parse_args(argv)
    records = args.records or (500 if args.quick else 5_000)
    rates = {}
    for mode in ("bare", "bulk"):
        written, seconds = measure(records, mode)
        if written != records:
            print(f"{mode}: wrote {written} of {records} records")
            return 1
        rates[mode] = written / seconds
        print(f"{mode:>5}: {written} customers in {seconds:.2f} s = {rates[mode]:.0f} records/s")
    print(f"BulkLoad runs at {rates['bulk'] / rates['bare']:.2f}x the bare loop's rate")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
