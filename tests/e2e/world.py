"""A small world for end-to-end engine tests: two simulators, a database, an installation."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.orm import Session, sessionmaker

from syncloom.connectors.base import Connector
from syncloom.connectors.creatio import CreatioConnector
from syncloom.connectors.intacct import IntacctConnector, IntacctCredentials
from syncloom.engine.bridge import LoopBridge
from syncloom.engine.budget import Limits
from syncloom.engine.clock import SystemClock
from syncloom.engine.flows import load_flows
from syncloom.engine.installation import ConnectionInfo, Installation
from syncloom.simulators.common.server import SimulatorServer
from syncloom.simulators.creatio.app import CreatioSimulator
from syncloom.simulators.intacct.app import IntacctSimulator
from syncloom.store import make_engine, session_factory, upgrade
from syncloom.store.accounts import Accounts
from syncloom.store.models import Connection
from syncloom.testing import SimulatorHandle

INTACCT = IntacctCredentials("simsender", "simsenderpw", "SIMCO", "admin", "admin")

ACCOUNTS_FLOW = """
flows:
  - name: accounts
    source: {connection: crm, entity: Account}
    target: {connection: erp, entity: CUSTOMER}
    direction: DIRECTION
    conflict: CONFLICT
    key: {template: "SL{hash10}"}
    fields:
      - {source: Name, target: NAME}
      - {source: Phone, target: DISPLAYCONTACT.PHONE1}
    writeback:
      - {field: UsrErpCustomerId, value: "{target_id}"}
"""


@dataclass
class World:
    """What a test drives: the simulators, the connectors, the installation, the sessions."""

    crm_sim: SimulatorHandle
    erp_sim: SimulatorHandle
    crm: Connector
    erp: Connector
    inst: Installation
    sessions: sessionmaker[Session]
    bridge: LoopBridge
    database_url: str

    def run(self, coro):  # type: ignore[no-untyped-def]
        return self.bridge.run(coro)


def flow_document(direction: str = "one_way", conflict: str = "newest_wins") -> str:
    return ACCOUNTS_FLOW.replace("DIRECTION", direction).replace("CONFLICT", conflict)


def _tenant_and_connections(sessions: sessionmaker[Session]) -> tuple[int, dict[str, int]]:
    with sessions.begin() as session:
        tenant = Accounts(session).create_tenant("acme", "Acme")
        ids = {}
        for name, system in (("crm", "creatio"), ("erp", "intacct")):
            row = Connection(
                tenant_id=tenant.id, name=name, system=system, base_url="http://127.0.0.1"
            )
            session.add(row)
            session.flush()
            ids[name] = row.id
        return tenant.id, ids


@contextmanager
def world(
    tmp_path: Path, document: str, *, records: int = 3, limits: Limits | None = None
) -> Iterator[World]:
    """Start both simulators, migrate a fresh SQLite file, build the installation."""
    url = f"sqlite:///{tmp_path / 'syncloom.db'}"
    upgrade(url)
    sessions = session_factory(make_engine(url))
    tenant_id, ids = _tenant_and_connections(sessions)
    with ExitStack() as stack:
        crm_server = stack.enter_context(SimulatorServer(CreatioSimulator(records=records)))
        erp_server = stack.enter_context(SimulatorServer(IntacctSimulator(records=records)))
        bridge = LoopBridge()
        stack.callback(bridge.close)
        crm = CreatioConnector(crm_server.base_url, username="Supervisor", password="Supervisor")
        erp = IntacctConnector(erp_server.base_url, INTACCT)
        stack.callback(lambda: bridge.run(crm.aclose()))
        stack.callback(lambda: bridge.run(erp.aclose()))
        budget = limits or Limits(rate_per_s=500, burst=100, max_in_flight=16)
        connections = {
            "crm": ConnectionInfo(crm, ids["crm"], budget),
            "erp": ConnectionInfo(erp, ids["erp"], budget),
        }
        inst = Installation(
            tenant_id=tenant_id,
            document=load_flows(document),
            connections=connections,
            sessions=sessions,
            clock=SystemClock(),
            bridge=bridge,
        )
        yield World(
            SimulatorHandle(crm_server.base_url),
            SimulatorHandle(erp_server.base_url),
            crm,
            erp,
            inst,
            sessions,
            bridge,
            url,
        )
