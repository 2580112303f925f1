"""syncloom as it is deployed: real processes over one database, simulators, observables.

Scaled out, that is ``syncloom worker`` and ``syncloom web`` processes over one PostgreSQL
database; on one machine, ``syncloom run`` over a SQLite file. The simulators run in this
process (threads on loopback); every syncloom process is a real subprocess with its own
executor id, so killing one is a real SIGKILL.
"""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg
import sqlalchemy as sa
from sqlalchemy.orm import Session, sessionmaker

from syncloom.connectors.intacct import IntacctConnector, IntacctCredentials
from syncloom.engine.runtime import migrate_runtime
from syncloom.simulators.common.server import SimulatorServer
from syncloom.simulators.creatio.app import CreatioSimulator
from syncloom.simulators.intacct.app import IntacctSimulator
from syncloom.store import make_engine, session_factory, upgrade
from syncloom.store.accounts import Accounts
from syncloom.store.config_versions import ConfigVersions
from syncloom.store.models import Connection, Link, LinkState, RecordLogEntry
from syncloom.vault import Keyring, MasterKey, Vault, seal_credentials

HOOK_SECRET = "cluster-hook-secret"
CRM_SECRETS = {"username": "Supervisor", "password": "Supervisor", "webhook_secret": HOOK_SECRET}
ERP_SECRETS = {
    "sender_id": "simsender",
    "sender_password": "simsenderpw",
    "company_id": "SIMCO",
    "user_id": "admin",
    "user_password": "admin",
}
LIMITS = {"limits": {"rate_per_s": 2000, "burst": 500, "max_in_flight": 64}}

# Polls every two seconds: whichever worker the schedule lands on enqueues the record jobs,
# and every worker takes jobs from the one queue.
FLOW = """
flows:
  - name: accounts
    source: {connection: crm, entity: Account}
    target: {connection: erp, entity: CUSTOMER}
    key: {template: "SL{hash10}"}
    schedule: {cron: "*/2 * * * * *"}
    fields:
      - {source: Name, target: NAME}
      - {source: Phone, target: DISPLAYCONTACT.PHONE1}
"""


@contextmanager
def fresh_database(pg_url: str) -> Iterator[str]:
    """A new, empty PostgreSQL database for one test, dropped afterwards."""
    name = f"syncloom_scale_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(pg_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield sa.make_url(pg_url).set(database=name).render_as_string(hide_password=False)
    finally:
        with psycopg.connect(pg_url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@dataclass
class Cluster:
    """The database, the simulators and the worker processes of one test."""

    url: str
    tmp_path: Path
    master_key: str
    sessions: sessionmaker[Session]
    crm_url: str
    erp_url: str
    workers: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)

    def env(self, executor_id: str) -> dict[str, str]:
        """The environment of one process of this cluster."""
        return {
            **os.environ,
            "PYTHONUNBUFFERED": "1",
            "SYNCLOOM_DATABASE_URL": self.url,
            "SYNCLOOM_MASTER_KEY": self.master_key,
            "SYNCLOOM_KEY_FILE": str(self.tmp_path / "unused.key"),
            "SYNCLOOM_EXECUTOR_ID": executor_id,
            "SYNCLOOM_LOG_LEVEL": "WARNING",
        }

    def log(self, executor_id: str) -> Path:
        return self.tmp_path / f"{executor_id}.log"

    def command(
        self, executor_id: str, *args: str, env: dict[str, str] | None = None
    ) -> subprocess.Popen[bytes]:
        """Start ``syncloom <args>`` as ``executor_id``, its output in that id's log."""
        with self.log(executor_id).open("ab") as sink:
            return subprocess.Popen(
                [sys.executable, "-m", "syncloom.cli", *args],
                stdout=sink,
                stderr=subprocess.STDOUT,
                env={**self.env(executor_id), **(env or {})},
            )

    def start_worker(self, executor_id: str, concurrency: int = 16) -> None:
        self.workers[executor_id] = self.command(
            executor_id, "worker", "--concurrency", str(concurrency)
        )

    def start_web(self, name: str = "web") -> str:
        """Start ``syncloom web`` alone (no worker in it) on a free port; returns its URL."""
        return self._serve(name, "web")

    def start_run(self, name: str = "run") -> str:
        """Start ``syncloom run`` (runtime, portal and webhook intake in one process)."""
        return self._serve(name, "run")

    def _serve(self, name: str, command: str) -> str:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        self.workers[name] = self.command(name, command, env={"SYNCLOOM_WEB_PORT": str(port)})
        return f"http://127.0.0.1:{port}"

    def vault(self) -> Vault:
        """The vault the processes open with this cluster's master key."""
        return Vault(Keyring(MasterKey.from_base64(self.master_key)))

    def kill(self, executor_id: str) -> None:
        """SIGKILL: no shutdown, no checkpoint of the step in flight."""
        process = self.workers.pop(executor_id)
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=30)

    def kill_while_busy(self, executor_id: str, timeout_s: float) -> int:
        """SIGKILL a worker at a moment it holds running jobs; returns how many it held.

        The worker is frozen (SIGSTOP) while its jobs are counted, so it cannot finish them
        between the count and the kill.
        """
        process = self.workers[executor_id]
        deadline = time.monotonic() + timeout_s
        while True:
            process.send_signal(signal.SIGSTOP)
            held = self.runs_by_executor("PENDING")[executor_id]
            if held or time.monotonic() > deadline:
                self.kill(executor_id)
                return held
            process.send_signal(signal.SIGCONT)
            self.check_alive()
            time.sleep(0.1)

    def stop_all(self) -> None:
        """SIGTERM every worker; any that does not stop in time is killed, then reported."""
        for process in self.workers.values():
            process.send_signal(signal.SIGTERM)
        stuck = []
        for executor_id, process in self.workers.items():
            try:
                process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=10)
                stuck.append(executor_id)
        self.workers.clear()
        if stuck:
            raise AssertionError(f"worker(s) {', '.join(stuck)} ignored SIGTERM")

    def check_alive(self) -> None:
        for executor_id, process in self.workers.items():
            if process.poll() is not None:
                raise AssertionError(
                    f"worker {executor_id} exited ({process.returncode}):\n"
                    + self.log(executor_id).read_text(errors="replace")[-4000:]
                )

    # -- observables ----------------------------------------------------------------------
    def linked(self) -> int:
        with self.sessions() as session:
            query = sa.select(sa.func.count()).select_from(Link)
            return int(session.scalar(query.where(Link.state == LinkState.LINKED)) or 0)

    def log_actions(self) -> dict[str, Counter[str]]:
        """Record-log actions per record key."""
        per_key: dict[str, Counter[str]] = {}
        with self.sessions() as session:
            for key, action in session.execute(
                sa.select(RecordLogEntry.record_key, RecordLogEntry.action)
            ):
                per_key.setdefault(key, Counter())[action] += 1
        return per_key

    def target_keys(self) -> list[str]:
        """Every customer key in the ERP simulator that a sync created (``SL...``)."""

        async def read() -> list[str]:
            erp = IntacctConnector(self.erp_url, IntacctCredentials(*ERP_SECRETS.values()))
            try:
                return [k async for page in erp.iter_keys("CUSTOMER") for k in page]
            finally:
                await erp.aclose()

        return [key for key in asyncio.run(read()) if key.startswith("SL")]

    def runs_by_executor(self, status: str = "SUCCESS") -> Counter[str]:
        """Record jobs per executor id, from the runtime's own table."""
        query = sa.text(
            "SELECT executor_id, count(*) FROM dbos.workflow_status "
            "WHERE name = :name AND status = :status GROUP BY executor_id"
        )
        with self.sessions() as session:
            rows = session.execute(query, {"name": "syncloom.sync_record", "status": status})
            return Counter({str(executor): int(count) for executor, count in rows})


def wait_for(check: Callable[[], Any], cluster: Cluster, timeout_s: float, what: str) -> Any:
    """Poll ``check`` until it is truthy; fail after ``timeout_s`` or when a worker dies."""
    deadline = time.monotonic() + timeout_s
    while True:
        value = check()
        if value:
            return value
        cluster.check_alive()
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.25)


def _seed(
    url: str, vault: Vault, crm_url: str, erp_url: str, flow: str, limits: dict[str, Any]
) -> None:
    engine = make_engine(url)
    sessions = session_factory(engine)
    with sessions.begin() as session:
        tenant = Accounts(session).create_tenant("acme", "Acme")
        for name, system, base, secrets in (
            ("crm", "creatio", crm_url, CRM_SECRETS),
            ("erp", "intacct", erp_url, ERP_SECRETS),
        ):
            row = Connection(
                tenant_id=tenant.id, name=name, system=system, base_url=base, options=limits
            )
            session.add(row)
            session.flush()
            seal_credentials(vault, row, secrets)
        ConfigVersions(session).save(tenant.id, "flows", flow, author="test")
    engine.dispose()


@contextmanager
def cluster(
    pg_url: str | None,
    tmp_path: Path,
    *,
    records: int,
    flow: str = FLOW,
    limits: dict[str, Any] | None = None,
    gateway_concurrency: int | None = None,
) -> Iterator[Cluster]:
    """A migrated database, both simulators (``records`` Accounts) and no process yet.

    Args:
        pg_url: a PostgreSQL server to make a fresh database on; ``None`` for a SQLite file
            in ``tmp_path`` (for ``syncloom run``: one process).
        flow: the tenant's flow document.
        limits: both Connections' budgets (default: generous, see ``LIMITS``).
        gateway_concurrency: concurrent requests the Intacct gateway serves (default: the
            budget's ``max_in_flight``).
    """
    key = MasterKey.generate()
    limits = limits or LIMITS
    with ExitStack() as stack:
        if pg_url:
            url = stack.enter_context(fresh_database(pg_url))
        else:
            url = f"sqlite:///{tmp_path / 'syncloom.db'}"
        upgrade(url)
        migrate_runtime(url)  # as `syncloom db upgrade` does
        crm = stack.enter_context(SimulatorServer(CreatioSimulator(records=records)))
        # The gateway's default of two concurrent requests per company would set the pace
        # (and answer the rest with 429s); allow as many as the workers' budget, so the
        # workers, not the gateway, are what is measured.
        slots = gateway_concurrency or limits["limits"]["max_in_flight"]
        gateway = IntacctSimulator(records=1, max_concurrent=slots)
        erp = stack.enter_context(SimulatorServer(gateway))
        _seed(url, Vault(Keyring(key)), crm.base_url, erp.base_url, flow, limits)
        engine = make_engine(url)
        stack.callback(engine.dispose)
        world = Cluster(
            url, tmp_path, key.to_base64(), session_factory(engine), crm.base_url, erp.base_url
        )
        stack.callback(world.stop_all)
        yield world
