"""A world for Solution tests: the three simulators on loopback, a database, an installation."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Connection as SqlConnection
from sqlalchemy.orm import Session, sessionmaker

from syncloom.connectors.base import Connector, Record, RecordKey
from syncloom.connectors.creatio import CreatioConnector
from syncloom.connectors.d365 import D365Connector
from syncloom.connectors.intacct import IntacctConnector, IntacctCredentials
from syncloom.engine.bridge import LoopBridge
from syncloom.engine.budget import Limits
from syncloom.engine.clock import SystemClock
from syncloom.engine.flows import FlowDocument
from syncloom.engine.installation import ConnectionInfo, Installation
from syncloom.engine.record_job import JobOutcome
from syncloom.simulators.common.server import SimulatorServer
from syncloom.simulators.common.tls import make_certificates
from syncloom.simulators.creatio.app import CreatioSimulator
from syncloom.simulators.d365.app import D365Simulator
from syncloom.simulators.intacct.app import IntacctSimulator
from syncloom.store import make_engine, session_factory, upgrade
from syncloom.store.accounts import Accounts
from syncloom.store.models import Connection

INTACCT = IntacctCredentials("simsender", "simsenderpw", "SIMCO", "admin", "admin")
SYSTEMS = {"creatio": "creatio", "intacct": "intacct", "d365": "d365"}


@dataclass
class World:
    """What a test drives: the connectors by Connection name and the installation."""

    connectors: dict[str, Connector]
    simulators: dict[str, Any]
    inst: Installation
    bridge: LoopBridge
    sessions: sessionmaker[Session]
    ca_file: str | None = None

    @property
    def crm(self) -> Connector:
        return self.connectors["creatio"]

    def erp(self, name: str) -> Connector:
        return self.connectors[name]

    def run(self, coro):  # type: ignore[no-untyped-def]
        return self.bridge.run(coro)

    def sync(self, flow: str, key: RecordKey) -> JobOutcome:
        """Run the record job of ``flow`` for ``key`` once."""
        return self.bridge.run(self.inst.unit(flow).job.run(key))

    def get(self, connection: str, entity: str, ident: str) -> Record:
        record = self.bridge.run(self.connectors[connection].get(entity, ident))
        assert record is not None, f"{entity} {ident} not found in {connection}"
        return record

    def search(self, connection: str, entity: str, **criteria: object) -> list[Record]:
        return list(self.bridge.run(self.connectors[connection].search(entity, criteria)))

    def poll(self, flow: str) -> list[JobOutcome]:
        """Poll every side ``flow`` reads, as its schedule would, and run each job enqueued.

        The first poll of a flow reads everything; :meth:`prime` takes it out of the way.
        """
        hints: list[RecordKey] = []

        def enqueue(tx: object, name: str, record: Record) -> str | None:
            if name == flow:
                hints.append(record.key)
            return None

        self.inst.attach(self._transaction, enqueue)  # type: ignore[arg-type]
        for poller in self.inst.unit(flow).pollers:
            self.bridge.run(poller.poll())
        return [self.sync(flow, key) for key in hints]

    def prime(self, flow: str) -> None:
        """Advance the flow's watermarks past what exists now, running nothing."""
        self.inst.attach(self._transaction, lambda tx, name, record: None)  # type: ignore[arg-type]
        for poller in self.inst.unit(flow).pollers:
            self.bridge.run(poller.poll())

    @contextmanager
    def _transaction(self) -> Iterator[_Tx]:
        with self.sessions.begin() as session:
            yield _Tx(session.connection())


@dataclass
class _Tx:
    """A database transaction for the pollers' watermarks (the tests run jobs themselves)."""

    connection: SqlConnection

    def enqueue(self, *args: object, **kwargs: object) -> str:
        raise NotImplementedError("world.poll runs the jobs itself")


def _connections(
    sessions: sessionmaker[Session], names: list[str], systems: dict[str, str]
) -> tuple[int, dict[str, int]]:
    with sessions.begin() as session:
        tenant = Accounts(session).create_tenant("acme", "Acme")
        ids = {}
        for name in names:
            row = Connection(
                tenant_id=tenant.id, name=name, system=systems[name], base_url="http://127.0.0.1"
            )
            session.add(row)
            session.flush()
            ids[name] = row.id
        return tenant.id, ids


def _start(stack: ExitStack, name: str, records: int, ca: list[str]) -> tuple[Any, Connector]:
    if name == "creatio":
        server = stack.enter_context(SimulatorServer(CreatioSimulator(records=records)))
        return server, CreatioConnector(
            server.base_url, username="Supervisor", password="Supervisor"
        )
    if name == "intacct":
        server = stack.enter_context(SimulatorServer(IntacctSimulator(records=records)))
        return server, IntacctConnector(server.base_url, INTACCT)
    certs = make_certificates()
    ca.append(str(certs.ca_file))
    simulator = D365Simulator(seed=1, records=records)
    server = stack.enter_context(
        SimulatorServer(simulator, certfile=str(certs.cert_file), keyfile=str(certs.key_file))
    )
    return server, D365Connector(
        base_url=server.base_url,
        tenant="simtenant",
        client_id="sim-client",
        client_secret="sim-secret",
        authority_host=server.base_url,
        ca_file=str(certs.ca_file),
    )


@contextmanager
def world(
    tmp_path: Path,
    document: FlowDocument,
    erp: str,
    *,
    records: int = 10,
    limits: Limits | None = None,
    entity_connections: dict[str, str] | None = None,
) -> Iterator[World]:
    """Start Creatio and the ERP simulator, migrate a fresh SQLite file, build the installation.

    ``entity_connections`` adds Intacct Connections (name -> entity id) signed in to one
    entity each, on the same simulator.
    """
    url = f"sqlite:///{tmp_path / 'syncloom.db'}"
    upgrade(url)
    sessions = session_factory(make_engine(url))
    entities = entity_connections or {}
    names = ["creatio", erp, *entities]
    tenant_id, ids = _connections(sessions, names, {**SYSTEMS, **dict.fromkeys(entities, erp)})
    with ExitStack() as stack:
        bridge = LoopBridge()
        stack.callback(bridge.close)
        servers, connectors, ca = {}, {}, []
        for name in ["creatio", erp]:
            server, connector = _start(stack, name, records, ca)
            servers[name], connectors[name] = server, connector
            stack.callback(lambda c=connector: bridge.run(c.aclose()))
        for name, entity_id in entities.items():
            connector = IntacctConnector(servers[erp].base_url, INTACCT, entity_id=entity_id)
            connectors[name] = connector
            stack.callback(lambda c=connector: bridge.run(c.aclose()))
        budget = limits or Limits(rate_per_s=500, burst=100, max_in_flight=16)
        infos = {n: ConnectionInfo(connectors[n], ids[n], budget) for n in names}
        inst = Installation(
            tenant_id=tenant_id,
            document=document,
            connections=infos,
            sessions=sessions,
            clock=SystemClock(),
            bridge=bridge,
        )
        yield World(connectors, servers, inst, bridge, sessions, ca[0] if ca else None)
