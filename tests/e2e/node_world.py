"""A whole syncloom node over two simulators: database, vault, connections, flows, runtime."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from syncloom.node import Node
from syncloom.simulators.common.server import SimulatorServer
from syncloom.simulators.creatio.app import CreatioSimulator
from syncloom.simulators.intacct.app import IntacctSimulator
from syncloom.store import make_engine, session_factory, upgrade
from syncloom.store.accounts import Accounts
from syncloom.store.config_versions import ConfigVersions
from syncloom.store.models import Connection
from syncloom.testing import SimulatorHandle
from syncloom.vault import Keyring, MasterKey, Vault, seal_credentials

CRM_SECRETS = {"username": "Supervisor", "password": "Supervisor"}
ERP_SECRETS = {
    "sender_id": "simsender",
    "sender_password": "simsenderpw",
    "company_id": "SIMCO",
    "user_id": "admin",
    "user_password": "admin",
}
FAST = {"limits": {"rate_per_s": 500, "burst": 100, "max_in_flight": 16}}


@dataclass
class NodeWorld:
    node: Node
    tenant_id: int
    crm_sim: SimulatorHandle
    erp_sim: SimulatorHandle

    @property
    def inst(self):  # type: ignore[no-untyped-def]
        return self.node.installations[self.tenant_id]

    def run(self, coro):  # type: ignore[no-untyped-def]
        assert self.node.bridge is not None
        return self.node.bridge.run(coro)

    def crm(self):  # type: ignore[no-untyped-def]
        return self.inst.connections["crm"].connector

    def erp(self):  # type: ignore[no-untyped-def]
        return self.inst.connections["erp"].connector


def wait_for(check: Callable[[], Any], timeout_s: float = 60.0, what: str = "condition") -> Any:
    """Poll ``check`` until it returns something truthy, failing after ``timeout_s``."""
    deadline = time.monotonic() + timeout_s
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


def _setup(url: str, vault: Vault, document: str, crm_url: str, erp_url: str) -> int:
    sessions = session_factory(make_engine(url))
    with sessions.begin() as session:
        tenant = Accounts(session).create_tenant("acme", "Acme")
        for name, system, base, secrets in (
            ("crm", "creatio", crm_url, CRM_SECRETS),
            ("erp", "intacct", erp_url, ERP_SECRETS),
        ):
            row = Connection(
                tenant_id=tenant.id, name=name, system=system, base_url=base, options=FAST
            )
            session.add(row)
            session.flush()
            seal_credentials(vault, row, secrets)
        ConfigVersions(session).save(tenant.id, "flows", document, author="test")
        return tenant.id


@contextmanager
def node_world(
    tmp_path: Path, document: str, *, records: int = 4, erp_faults: str = ""
) -> Iterator[NodeWorld]:
    url = f"sqlite:///{tmp_path / 'node.db'}"
    upgrade(url)
    vault = Vault(Keyring(MasterKey.generate()))
    with ExitStack() as stack:
        crm = stack.enter_context(SimulatorServer(CreatioSimulator(records=records)))
        erp = stack.enter_context(SimulatorServer(IntacctSimulator(records=records)))
        tenant_id = _setup(url, vault, document, crm.base_url, erp.base_url)
        node = Node(url, session_factory(make_engine(url)), vault)
        node.start()
        stack.callback(node.stop)
        yield NodeWorld(
            node, tenant_id, SimulatorHandle(crm.base_url), SimulatorHandle(erp.base_url)
        )
