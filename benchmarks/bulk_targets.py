"""Bulk initial load into D365 and Intacct, with and without latency, against a bare loop.

Run with ``.venv/bin/python -m benchmarks.bulk_targets [--quick] [--records N]
[--latency-ms 0,50]``. For each target (D365 ``CustomersV3``, Intacct ``CUSTOMER``) and each
injected latency, both loads start from a fresh seeded Creatio simulator (``N`` Accounts) and
an almost empty target simulator, and create one customer per Account:

- the *bare loop* reads a page, maps it and sends it in the target's batch size, one call at
  a time, with no database at all;
- *BulkLoad* does the same through the engine: target prefetch, matching, reservations and
  leases, the record log, the write ledger and a checkpoint per page, on a SQLite file.

Both make one call at a time (the same concurrency limit), so the ratio is the price of the
engine's guarantees. Latency is added by the simulators to every request, both ways.
Simulators run in threads of this process and share its interpreter: compare the figures with
each other, not with a real tenant.
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from syncloom.connectors.base import Connector, Op, OpKind
from syncloom.connectors.creatio import CreatioConnector
from syncloom.connectors.d365 import D365Connector
from syncloom.connectors.intacct import IntacctConnector, IntacctCredentials
from syncloom.engine.bridge import LoopBridge
from syncloom.engine.budget import Limits
from syncloom.engine.bulk import BulkLoad
from syncloom.engine.clock import SystemClock
from syncloom.engine.flows import load_flows
from syncloom.engine.installation import ConnectionInfo, Installation
from syncloom.engine.keys import render_key
from syncloom.engine.mapper import FieldMapMapper
from syncloom.simulators.common.faults import FaultPlan
from syncloom.simulators.common.server import SimulatorServer
from syncloom.simulators.common.tls import make_certificates
from syncloom.simulators.creatio.app import CreatioSimulator
from syncloom.simulators.d365.app import D365Simulator
from syncloom.simulators.intacct.app import IntacctSimulator
from syncloom.store import make_engine, session_factory, upgrade
from syncloom.store.accounts import Accounts
from syncloom.store.models import Connection

PAGE = 500
INTACCT = IntacctCredentials("simsender", "simsenderpw", "SIMCO", "admin", "admin")
FLOW = """
flows:
  - name: accounts
    source: {connection: crm, entity: Account}
    target: {connection: erp, entity: ENTITY}
    key: {template: "KEY"}
    fields:
FIELDS
"""


@dataclass(frozen=True)
class Target:
    """One ERP as the load's target: its simulator, connector, entity and field map."""

    name: str
    entity: str
    key: str
    fields: tuple[str, ...]
    simulator: Callable[[FaultPlan], object]
    connector: Callable[[str, str | None], Connector]
    tls: bool

    def document(self) -> str:
        fields = "\n".join(f"      - {line}" for line in self.fields)
        text = FLOW.replace("ENTITY", self.entity).replace("KEY", self.key)
        return text.replace("FIELDS", fields)


def _d365(url: str, ca_file: str | None) -> Connector:
    return D365Connector(
        base_url=url,
        tenant="simtenant",
        client_id="sim-client",
        client_secret="sim-secret",
        authority_host=url,
        ca_file=ca_file,
        batch_size=1000,
    )


TARGETS = (
    Target(
        "d365",
        "CustomersV3",
        "usmf/CR{hash10}",
        (
            "{source: Name, target: OrganizationName}",
            "{source: Phone, target: PrimaryContactPhone}",
            "{source: Name, target: CustomerGroupId, transform: \"'10'\"}",
        ),
        lambda plan: D365Simulator(records=1, faults=plan),
        _d365,
        True,
    ),
    Target(
        "intacct",
        "CUSTOMER",
        "SL{hash10}",
        (
            "{source: Name, target: NAME}",
            "{source: Phone, target: DISPLAYCONTACT.PHONE1}",
        ),
        lambda plan: IntacctSimulator(records=1, faults=plan),
        lambda url, _ca: IntacctConnector(url, INTACCT),
        False,
    ),
)


def _crm(url: str) -> CreatioConnector:
    return CreatioConnector(url, username="Supervisor", password="Supervisor")


async def bare_loop(target: Target, crm_url: str, erp_url: str, ca_file: str | None) -> int:
    """Read every Account page, map it, create the customers in the target's batch size."""
    flow = load_flows(target.document()).flow("accounts")
    mapper = FieldMapMapper.from_flow(flow, value_maps={})
    crm, erp = _crm(crm_url), target.connector(erp_url, ca_file)
    size = (await erp.describe(target.entity)).batch_size
    written, cursor = 0, None
    while True:
        page = await crm.read_changes("Account", None, cursor, PAGE)
        ops = []
        for record in page.records:
            payload = mapper.map(record.values, for_create=True)
            ident = render_key(flow.key.template, source=record.key, payload=payload)
            ops.append(Op(OpKind.CREATE, target.entity, ident, payload))
        for start in range(0, len(ops), size):
            results = await erp.batch(ops[start : start + size])
            written += sum(r.ok for r in results)
        cursor = page.cursor
        if cursor is None:
            break
    await crm.aclose()
    await erp.aclose()
    return written


def _tenant(url: str, crm_url: str) -> tuple[int, dict[str, int]]:
    sessions = session_factory(make_engine(url))
    with sessions.begin() as session:
        tenant = Accounts(session).create_tenant("bench", "Bench")
        ids = {}
        for name, system in (("crm", "creatio"), ("erp", "erp")):
            row = Connection(tenant_id=tenant.id, name=name, system=system, base_url=crm_url)
            session.add(row)
            session.flush()
            ids[name] = row.id
        return tenant.id, ids


@contextmanager
def engine_installation(
    target: Target, crm_url: str, erp_url: str, ca_file: str | None, workdir: Path
) -> Iterator[tuple[Installation, LoopBridge, str]]:
    """A migrated SQLite file, a tenant and the live installation of the benchmark's flow."""
    url = f"sqlite:///{workdir / 'bench.db'}"
    upgrade(url)
    tenant_id, ids = _tenant(url, crm_url)
    bridge = LoopBridge()
    crm, erp = _crm(crm_url), target.connector(erp_url, ca_file)
    limits = Limits(rate_per_s=10_000, burst=1_000, max_in_flight=64)
    inst = Installation(
        tenant_id=tenant_id,
        document=load_flows(target.document()),
        connections={
            "crm": ConnectionInfo(crm, ids["crm"], limits),
            "erp": ConnectionInfo(erp, ids["erp"], limits),
        },
        sessions=session_factory(make_engine(url)),
        clock=SystemClock(),
        bridge=bridge,
    )
    try:
        yield inst, bridge, url
    finally:
        bridge.run(crm.aclose())
        bridge.run(erp.aclose())
        bridge.close()


def engine_load(
    target: Target,
    crm_url: str,
    erp_url: str,
    ca_file: str | None,
    workdir: Path,
    read_ahead: bool = True,
) -> tuple[int, float]:
    """The same load through BulkLoad on a SQLite file (set-up not timed)."""
    with engine_installation(target, crm_url, erp_url, ca_file, workdir) as (inst, bridge, _):
        started = time.perf_counter()
        load = BulkLoad.for_flow(inst, "accounts", page_size=PAGE, read_ahead=read_ahead)
        run = bridge.run(load.run())
        return int(run.counts.get("created", 0)), time.perf_counter() - started


def measure(
    target: Target, records: int, latency_ms: float, mode: str, read_ahead: bool = True
) -> tuple[int, float]:
    """Start fresh simulators and time one load; returns (customers written, seconds)."""
    crm_plan, erp_plan = FaultPlan(seed=1), FaultPlan(seed=2)
    crm_sim = CreatioSimulator(records=records, faults=crm_plan)
    certfile = keyfile = ca_file = None
    if target.tls:
        certs = make_certificates(hosts=("127.0.0.1",))
        certfile, keyfile, ca_file = str(certs.cert_file), str(certs.key_file), str(certs.ca_file)
    with (
        SimulatorServer(crm_sim) as crm,
        SimulatorServer(target.simulator(erp_plan), certfile=certfile, keyfile=keyfile) as erp,
        tempfile.TemporaryDirectory() as tmp,
    ):
        # Latency only once the data is seeded, so set-up stays fast.
        crm_plan.configure("", latency_ms)
        erp_plan.configure("", latency_ms)
        if mode == "bulk":
            return engine_load(target, crm.base_url, erp.base_url, ca_file, Path(tmp), read_ahead)
        started = time.perf_counter()
        written = asyncio.run(bare_loop(target, crm.base_url, erp.base_url, ca_file))
        return written, time.perf_counter() - started


def compare(target: Target, records: int, latency_ms: float, read_ahead: bool = True) -> bool:
    """Print both rates and the ratio; False when a load did not write every record."""
    rates = {}
    for mode in ("bare", "bulk"):
        written, seconds = measure(target, records, latency_ms, mode, read_ahead)
        if written != records:
            print(f"{target.name} {mode}: wrote {written} of {records} records")
            return False
        rates[mode] = written / seconds
        print(
            f"{target.name:>7} {latency_ms:>4.0f} ms {mode:>4}: {written} in {seconds:7.2f} s "
            f"= {rates[mode]:6.0f} records/s",
            flush=True,
        )
    print(f"{target.name:>7} {latency_ms:>4.0f} ms ratio: {rates['bulk'] / rates['bare']:.2f}x")
    return True


def main(argv: Sequence[str] | None = None) -> int:
    """Run every (target, latency) pair; non-zero when a load fell short."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="2,000 records instead of 100,000")
    parser.add_argument("--records", type=int, default=None)
    parser.add_argument("--latency-ms", default="0,50", help="comma-separated latencies")
    parser.add_argument("--target", choices=[t.name for t in TARGETS], default=None)
    parser.add_argument(
        "--no-read-ahead",
        action="store_true",
        help="BulkLoad reads each page only after the one before has settled",
    )
    args = parser.parse_args(argv)
    records = args.records or (2_000 if args.quick else 100_000)
    ok = True
    for latency in (float(x) for x in args.latency_ms.split(",")):
        for target in TARGETS:
            if args.target in (None, target.name):
                ok = compare(target, records, latency, not args.no_read_ahead) and ok
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
