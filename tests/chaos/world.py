"""The chaos world: three simulators in this process, a database and a keyring for a worker.

The worker (``worker.py``) runs in a subprocess so it can be killed with SIGKILL; it reads the
database URL and the keyring file from its arguments and finds the simulators through the
Connection rows this module writes. The test process keeps the simulators, mutates records
through them, injects faults, and judges the outcome from their ``/_sim/dump`` (admin
endpoints never get injected faults, so the judge always sees the truth).
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx

from syncloom.simulators.common.server import SimulatorServer
from syncloom.simulators.common.tls import make_certificates
from syncloom.simulators.creatio.app import CreatioSimulator
from syncloom.simulators.creatio.auth import SUPERVISOR_CONTACT
from syncloom.simulators.d365.app import D365Simulator
from syncloom.simulators.intacct.app import IntacctSimulator
from syncloom.store import make_engine, session_factory, upgrade
from syncloom.store.accounts import Accounts
from syncloom.store.config_versions import ConfigVersions
from syncloom.store.models import Connection
from syncloom.vault import Keyring, MasterKey, Vault, seal_credentials
from syncloom.vault.keys import write_keyring_file
from tests.chaos.hooks import HookRelay

WORKER = Path(__file__).with_name("worker.py")
FAST = {"rate_per_s": 500, "burst": 100, "max_in_flight": 16}
# The Intacct gateway serves two requests at a time per company (GW-0010 beyond that): a
# Connection is configured with the vendor's real concurrency, as an operator would.
IN_FLIGHT = {"crm": 16, "erp": 2, "fo": 16}

# Creatio Account -> Intacct CUSTOMER (key written back; made inactive when the Account is
# deleted) and -> D365 CustomersV3 (deleted with it).
CHAOS_FLOWS = """
flows:
  - name: accounts
    source: {connection: crm, entity: Account}
    target: {connection: erp, entity: CUSTOMER}
    delete: inactivate
    inactivate: {field: STATUS, value: inactive}
    key: {template: "SL{hash10}"}
    fields:
      - {source: Name, target: NAME}
      - {source: Phone, target: DISPLAYCONTACT.PHONE1}
    writeback:
      - {field: UsrErpCustomerId, value: "{target_id}"}
  - name: accounts_fo
    source: {connection: crm, entity: Account}
    target: {connection: fo, entity: CustomersV3}
    delete: propagate
    key: {template: "usmf/CR{hash10}"}
    fields:
      - {source: Name, target: OrganizationName}
      - {source: Phone, target: PrimaryContactPhone}
      - {source: Name, target: CustomerGroupId, create_only: true, transform: "'10'"}
      - {source: Name, target: PartyType, create_only: true, transform: "'Organization'"}
"""

# Creatio Product -> D365 released product, and Creatio Order (Confirmed) -> D365 sales order
# with one line per OrderProduct, the shape of the creatio_d365 Solution's orders_sales_orders:
# the header waits for its Account's F&O customer, each line for its Product (depends_on).
ORDER_FLOWS = """
  - name: products
    source: {connection: crm, entity: Product}
    target: {connection: fo, entity: ReleasedProductsV2}
    delete: ignore
    key: {template: "usmf/{field:ItemNumber}"}
    fields:
      - {source: Code, target: ItemNumber, create_only: true, required: true}
      - {source: Code, target: ProductNumber, create_only: true}
      - {source: Name, target: ProductSearchName, required: true}
      - {source: Price, target: SalesPrice}
      - {source: Code, target: ProductType, create_only: true, transform: "'Item'"}
  - name: orders
    source: {connection: crm, entity: Order}
    target: {connection: fo, entity: SalesOrderHeadersV2}
    filter: "StatusId == '28a0d05a-be3e-5fdf-9e92-5d6c1bf2ca36'"
    delete: ignore
    key: {template: "usmf/SO{hash10}"}
    fields:
      - {source: Number, target: CustomersOrderReference, create_only: true}
      - {source: Number, target: CurrencyCode, create_only: true, transform: "'USD'"}
    depends_on:
      - flow: accounts_fo
        field: AccountId
        target: OrderingCustomerAccountNumber
        value: "{field:CustomerAccount}"
    lines:
      entity: OrderProduct
      parent_field: OrderId
      target_entity: SalesOrderLines
      target_parent_field: SalesOrderNumber
      target_parent_value: "{field:SalesOrderNumber}"
      target_key: "usmf/OL{hash10}"
      fields:
        - {source: Quantity, target: OrderedSalesQuantity, required: true}
        - {source: Price, target: SalesPrice}
        - {source: Name, target: LineDescription}
      depends_on:
        - {flow: products, field: ProductId, target: ItemNumber, value: "{field:ItemNumber}"}
"""


@dataclass(frozen=True)
class Credentials:
    """The secrets the simulators expect and the Connections carry (the scan looks for them)."""

    crm_password: str = "Supervisor"
    erp_sender_password: str = "simsenderpw"
    erp_user_password: str = "admin"
    fo_client_secret: str = "sim-secret"
    crm_hook_secret: str = "chaos-hook-secret"

    def all(self) -> list[str]:
        return [
            self.crm_password,
            self.erp_sender_password,
            self.erp_user_password,
            self.fo_client_secret,
            self.crm_hook_secret,
        ]


@dataclass
class Simulated:
    """One running simulator: its server, how to trust it, and its admin endpoints."""

    server: SimulatorServer
    verify: str | bool = True

    @property
    def url(self) -> str:
        return self.server.base_url

    def admin(self, path: str, body: dict[str, Any] | None = None) -> Any:
        """POST (with a body) or GET one ``/_sim/`` endpoint and return its JSON."""
        url = f"{self.url}/_sim/{path}"
        if body is None:
            response = httpx.get(url, verify=self.verify, timeout=30)
        else:
            response = httpx.post(url, json=body, verify=self.verify, timeout=30)
        response.raise_for_status()
        return response.json()

    def rows(self, table: str) -> list[dict[str, Any]]:
        """Every row of one table, as the simulator holds it."""
        return list(self.admin("dump").get(table, []))


@dataclass
class ChaosWorld:
    """What a chaos test drives: the database, the keyring, the simulators, the workers."""

    tmp_path: Path
    database_url: str
    keyring_file: Path
    tenant_id: int
    sims: dict[str, Simulated]
    ca_file: str
    credentials: Credentials
    workers: list[subprocess.Popen[bytes]] = field(default_factory=list)
    # Where a worker's webhook intake listens, and the relay Creatio's webhook goes through.
    hooks_port: int = 0
    relay: HookRelay | None = None
    # Names of the chaos Accounts deleted in Creatio: their twins follow the delete policies.
    deleted: set[str] = field(default_factory=set)
    # The Orders the rounds created, by number: each line's (item number, quantity, price).
    orders: dict[str, list[tuple[str, Decimal, Decimal]]] = field(default_factory=dict)

    @property
    def log_file(self) -> Path:
        return self.tmp_path / "worker.log"

    def spawn(self, interval_s: float = 0.3) -> subprocess.Popen[bytes]:
        """Start a worker process that polls every flow every ``interval_s``."""
        env = {**os.environ, "PYTHONUNBUFFERED": "1", "SSL_CERT_FILE": self.ca_file}
        with self.log_file.open("ab") as sink:
            process = subprocess.Popen(
                [
                    sys.executable,
                    str(WORKER),
                    self.database_url,
                    str(self.keyring_file),
                    "--interval-s",
                    str(interval_s),
                    "--hooks-port",
                    str(self.hooks_port),
                ],
                stdout=sink,
                stderr=subprocess.STDOUT,
                env=env,
            )
        self.workers.append(process)
        return process

    def env(self, executor_id: str) -> dict[str, str]:
        """The environment of a ``syncloom`` process of this world."""
        return {
            **os.environ,
            "PYTHONUNBUFFERED": "1",
            "SSL_CERT_FILE": self.ca_file,
            "SYNCLOOM_DATABASE_URL": self.database_url,
            "SYNCLOOM_KEY_FILE": str(self.keyring_file),
            "SYNCLOOM_EXECUTOR_ID": executor_id,
            "SYNCLOOM_LOG_LEVEL": "WARNING",
        }

    def start_worker(self, executor_id: str, concurrency: int = 8) -> subprocess.Popen[bytes]:
        """Start ``syncloom worker`` as ``executor_id``: schedules, polls and record jobs."""
        with self.log_file.open("ab") as sink:
            process = subprocess.Popen(
                [sys.executable, "-m", "syncloom.cli", "worker", "--concurrency", str(concurrency)],
                stdout=sink,
                stderr=subprocess.STDOUT,
                env=self.env(executor_id),
            )
        self.workers.append(process)
        return process

    def recover(self, executor_id: str) -> None:
        """``syncloom recover``: hand a departed worker's pending runs to the live ones."""
        with self.log_file.open("ab") as sink:
            subprocess.run(
                [sys.executable, "-m", "syncloom.cli", "recover", executor_id, "--no-wait"],
                stdout=sink,
                stderr=subprocess.STDOUT,
                env=self.env("chaos-recover"),
                check=True,
                timeout=120,
            )

    def kill(self, process: subprocess.Popen[bytes]) -> None:
        """SIGKILL a worker: no shutdown hook, no flush, no goodbye."""
        if process.poll() is None:
            process.send_signal(signal.SIGKILL)
        process.wait(timeout=30)

    def stop_workers(self) -> None:
        for process in self.workers:
            self.kill(process)

    def set_faults(self, spec: str, *, latency_ms: float = 0.0) -> None:
        """The same random fault mix on every simulator, quick timeouts, Retry-After 1 s."""
        for sim in self.sims.values():
            sim.admin(
                "faults",
                {
                    "clear": True,
                    "spec": spec,
                    "latency_ms": latency_ms,
                    "retry_after_s": 1,
                    "timeout_s": 1.5,
                },
            )

    def clear_faults(self) -> None:
        for sim in self.sims.values():
            sim.admin("faults", {"clear": True})

    def expire_sessions(self) -> None:
        """Every simulator forgets its logins, sessions and tokens."""
        self.sims["crm"].admin("sessions", {"expire": True})
        self.sims["erp"].admin("sessions/expire", {})
        # D365 tokens are JWTs checked against the simulator's clock: a jump expires them.
        self.sims["fo"].admin("clock", {"advance_s": 3700})


def _write_database(
    url: str,
    vault: Vault,
    sims: dict[str, Simulated],
    ca_file: str,
    creds: Credentials,
    flows: str = CHAOS_FLOWS,
) -> int:
    secrets: dict[str, tuple[str, dict[str, str], dict[str, Any]]] = {
        "crm": (
            "creatio",
            {
                "username": "Supervisor",
                "password": creds.crm_password,
                "webhook_secret": creds.crm_hook_secret,
            },
            {},
        ),
        "erp": (
            "intacct",
            {
                "sender_id": "simsender",
                "sender_password": creds.erp_sender_password,
                "company_id": "SIMCO",
                "user_id": "admin",
                "user_password": creds.erp_user_password,
            },
            {},
        ),
        "fo": (
            "d365",
            {
                "tenant": "simtenant",
                "client_id": "sim-client",
                "client_secret": creds.fo_client_secret,
            },
            {"authority_host": sims["fo"].url, "ca_file": ca_file},
        ),
    }
    sessions = session_factory(make_engine(url))
    with sessions.begin() as session:
        tenant = Accounts(session).create_tenant("acme", "Acme")
        for name, (system, values, options) in secrets.items():
            row = Connection(
                tenant_id=tenant.id,
                name=name,
                system=system,
                base_url=sims[name].url,
                options={"limits": {**FAST, "max_in_flight": IN_FLIGHT[name]}, **options},
            )
            session.add(row)
            session.flush()
            seal_credentials(vault, row, values)
        ConfigVersions(session).save(tenant.id, "flows", flows, author="chaos")
        return tenant.id


def scheduled(flows: str, cron: str) -> str:
    """``flows`` with every flow polled on ``cron`` by whichever worker the schedule lands on."""
    return flows.replace("    key: {", f'    schedule: {{cron: "{cron}"}}\n    key: {{')


@contextmanager
def chaos_world(
    tmp_path: Path,
    *,
    records: int = 2,
    seed: int = 1,
    credentials: Credentials | None = None,
    database_url: str | None = None,
    flows: str = CHAOS_FLOWS,
) -> Iterator[ChaosWorld]:
    """Start the three simulators and write the database and keyring a worker starts from.

    The database is a fresh SQLite file unless ``database_url`` names an empty one (the
    PostgreSQL rounds).
    """
    creds = credentials or Credentials()
    url = database_url or f"sqlite:///{tmp_path / 'chaos.db'}"
    upgrade(url)
    keyring = Keyring(MasterKey.generate())
    keyring_file = tmp_path / "master.keys"
    write_keyring_file(keyring_file, keyring)
    certs = make_certificates()
    with ExitStack() as stack:
        sims = {
            "crm": Simulated(
                stack.enter_context(
                    SimulatorServer(
                        CreatioSimulator(
                            seed=seed,
                            records=records,
                            users={"Supervisor": (creds.crm_password, SUPERVISOR_CONTACT)},
                        )
                    )
                )
            ),
            "erp": Simulated(
                stack.enter_context(
                    SimulatorServer(
                        IntacctSimulator(
                            seed=seed + 1,
                            records=records,
                            sender_password=creds.erp_sender_password,
                            users={"admin": creds.erp_user_password},
                        )
                    )
                )
            ),
            "fo": Simulated(
                stack.enter_context(
                    SimulatorServer(
                        D365Simulator(
                            seed=seed + 2, records=records, client_secret=creds.fo_client_secret
                        ),
                        certfile=str(certs.cert_file),
                        keyfile=str(certs.key_file),
                    )
                ),
                str(certs.ca_file),
            ),
        }
        tenant_id = _write_database(url, Vault(keyring), sims, str(certs.ca_file), creds, flows)
        world = ChaosWorld(tmp_path, url, keyring_file, tenant_id, sims, str(certs.ca_file), creds)
        world.hooks_port = _free_port()
        world.relay = HookRelay(
            f"http://127.0.0.1:{world.hooks_port}/hooks/acme/crm", creds.crm_hook_secret, seed=seed
        )
        relay = stack.enter_context(SimulatorServer(world.relay))
        sims["crm"].admin(
            "webhooks",
            {
                "url": f"{relay.base_url}/hooks/acme/crm",
                "secret": creds.crm_hook_secret,
                "entities": ["Account"],
            },
        )
        stack.callback(world.stop_workers)
        yield world


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def wait_until(check: Any, timeout_s: float, interval_s: float = 0.25) -> tuple[bool, float]:
    """Poll ``check`` until truthy; return whether it held and the seconds it took."""
    started = time.monotonic()
    while True:
        if check():
            return True, time.monotonic() - started
        if time.monotonic() - started > timeout_s:
            return False, time.monotonic() - started
        time.sleep(interval_s)
