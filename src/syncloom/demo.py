"""Demo: the simulators, both Solutions, the initial load, then live sync — on one laptop.

``syncloom demo`` starts a Creatio simulator paired with the Sage Intacct simulator and another
paired with the D365 F&O simulator (each Solution writes the ERP's ids back to its own
Creatio), installs ``creatio_intacct`` and ``creatio_d365`` as two tenants, runs the initial
load with a progress bar, starts the portal, prints what synced, then keeps polling; with
``--live`` it also makes random edits on both sides so changes can be watched flowing.
"""

from __future__ import annotations

import random
import secrets
import shutil
import threading
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn
from rich.table import Table

from syncloom.commands.context import one_line
from syncloom.engine.flows import FlowDocument
from syncloom.errors import SyncError

__all__ = ["ADMIN_EMAIL", "DemoOptions", "run_demo"]

ADMIN_EMAIL = "admin@demo.local"
ADMIN_PASSWORD = "syncloom-demo"  # a demo-only account on loopback; printed for the user
SIMULATOR_SECRETS = {
    "creatio": {"username": "Supervisor", "password": "Supervisor"},
    "intacct": {
        "sender_id": "simsender",
        "sender_password": "simsenderpw",
        "company_id": "SIMCO",
        "user_id": "admin",
        "user_password": "admin",
    },
    "d365": {"tenant": "simtenant", "client_id": "sim-client", "client_secret": "sim-secret"},
}
PAIRS = (("creatio_intacct", "intacct"), ("creatio_d365", "d365"))
FAST = {"rate_per_s": 200, "burst": 50, "max_in_flight": 8}
# The Intacct gateway serves two concurrent requests per company; more only draws 429s.
LIMITS = {"intacct": {**FAST, "max_in_flight": 2}}


@dataclass
class DemoOptions:
    """What ``syncloom demo`` was asked for."""

    directory: Path = Path(".syncloom/demo")
    records: int = 100
    seed: int = 1
    base_port: int = 8601
    web_port: int = 8600
    live: bool = False
    once: bool = False
    interval_s: float = 10.0


@dataclass
class _Running:
    servers: dict[str, Any] = field(default_factory=dict)
    ca_file: str | None = None
    tenants: dict[str, int] = field(default_factory=dict)
    documents: dict[int, FlowDocument] = field(default_factory=dict)
    webhook_secret: str = field(default_factory=lambda: secrets.token_urlsafe(24))


def _start_simulators(stack: ExitStack, opts: DemoOptions, running: _Running) -> None:
    from syncloom.simulators.common.server import SimulatorServer
    from syncloom.simulators.common.tls import make_certificates
    from syncloom.simulators.creatio.app import CreatioSimulator
    from syncloom.simulators.d365.app import D365Simulator
    from syncloom.simulators.intacct.app import IntacctSimulator

    def port(offset: int) -> int:
        return opts.base_port + offset if opts.base_port else 0

    certs = make_certificates(opts.directory / "tls")
    running.ca_file = str(certs.ca_file)
    made = {
        "creatio-intacct": SimulatorServer(
            CreatioSimulator(seed=opts.seed, records=opts.records), port=port(0)
        ),
        "intacct": SimulatorServer(
            IntacctSimulator(seed=opts.seed, records=opts.records), port=port(1)
        ),
        "creatio-d365": SimulatorServer(
            CreatioSimulator(seed=opts.seed, records=opts.records), port=port(2)
        ),
        "d365": SimulatorServer(
            D365Simulator(seed=opts.seed, records=opts.records),
            port=port(3),
            certfile=str(certs.cert_file),
            keyfile=str(certs.key_file),
        ),
    }
    for name, server in made.items():
        running.servers[name] = stack.enter_context(server)


def _install(sessions: Any, vault: Any, running: _Running, opts: DemoOptions) -> None:
    from syncloom.node import FLOWS_DOCUMENT
    from syncloom.solutions import load_solution, solution_text
    from syncloom.store.accounts import Accounts
    from syncloom.store.config_versions import ConfigVersions
    from syncloom.store.models import Connection, RoleName
    from syncloom.vault import seal_credentials

    with sessions.begin() as session:
        accounts = Accounts(session)
        admin = accounts.create_user(ADMIN_EMAIL, ADMIN_PASSWORD, display_name="Demo admin")
        for solution, erp in PAIRS:
            tenant = accounts.create_tenant(erp, f"Demo: Creatio and {erp}")
            accounts.grant(tenant.id, admin.id, RoleName.ADMIN)
            running.tenants[erp] = tenant.id
            for name, server in (
                ("creatio", running.servers[f"creatio-{erp}"]),
                (erp, running.servers[erp]),
            ):
                options: dict[str, Any] = {"limits": LIMITS.get(name, FAST)}
                if name == "d365":
                    options |= {"authority_host": server.base_url, "ca_file": running.ca_file}
                row = Connection(
                    tenant_id=tenant.id,
                    name=name,
                    system=name,
                    base_url=server.base_url,
                    options=options,
                )
                session.add(row)
                session.flush()
                creds = dict(SIMULATOR_SECRETS[name])
                if name == "creatio":
                    creds["webhook_secret"] = running.webhook_secret
                seal_credentials(vault, row, creds)
            ConfigVersions(session).save(
                tenant.id,
                FLOWS_DOCUMENT,
                solution_text(solution),
                author="demo",
                comment=f"the {solution} Solution",
            )
            running.documents[tenant.id] = load_solution(solution)


def _initial_load(node: Any, running: _Running, console: Console) -> None:
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn())
    with Progress(*columns, console=console) as progress:
        for erp, tenant_id in running.tenants.items():
            for flow in running.documents[tenant_id].flows:
                task = progress.add_task(f"{erp}: {flow.name}", total=None)
                try:
                    report = node.poll_now(tenant_id, flow.name).result(600)
                except SyncError as exc:
                    progress.update(task, description=f"{erp}: {flow.name} — {one_line(exc)}")
                    continue
                progress.update(task, total=len(report["job_ids"]))
                for job_id in report["job_ids"]:
                    handle = node.runtime.job(job_id)
                    if handle is not None:
                        handle.result(600)
                    progress.advance(task)


def summary(node: Any, running: _Running) -> Table:
    """What synced so far, per tenant and flow."""
    from syncloom.store.models import DeadLetter, DeadLetterStatus, Link, LinkState, RecordLogEntry

    columns = ("linked", "created", "updated", "matched", "skipped", "review", "dead letters")
    table = Table("tenant", "flow", *columns, title="what synced")
    log = RecordLogEntry.action
    wanted: tuple[tuple[Any, Any], ...] = (
        (Link, Link.state == LinkState.LINKED),
        (RecordLogEntry, log == "created"),
        (RecordLogEntry, log.in_(("updated", "matched_updated"))),
        (RecordLogEntry, log.in_(("matched", "unchanged"))),
        (RecordLogEntry, log == "skipped"),
        (RecordLogEntry, log == "review"),
        (DeadLetter, DeadLetter.status == DeadLetterStatus.OPEN),
    )
    with node.sessions() as session:
        for erp, tenant_id in running.tenants.items():
            for flow in running.documents[tenant_id].flows:
                scoped = {"tenant_id": tenant_id, "flow": flow.name}
                counts = [
                    str(session.query(model).filter_by(**scoped).filter(where).count())
                    for model, where in wanted
                ]
                table.add_row(erp, flow.name, *counts)
    return table


def _register_webhooks(running: _Running, web_port: int) -> None:
    """Point each Creatio simulator's change notices at the portal's webhook intake."""
    import httpx

    for erp in running.tenants:
        url = f"http://127.0.0.1:{web_port}/hooks/{erp}/creatio"
        response = httpx.post(
            f"{running.servers[f'creatio-{erp}'].base_url}/_sim/webhooks",
            json={"url": url, "secret": running.webhook_secret},
            timeout=10,
        )
        response.raise_for_status()


def _simulator_table(running: _Running) -> Table:
    table = Table(
        "system", "URL", "admin", title="simulators", caption=f"D365 TLS CA: {running.ca_file}"
    )
    for name, server in running.servers.items():
        table.add_row(name, server.base_url, f"{server.base_url}/_sim/stats")
    return table


def _keep_syncing(
    node: Any, running: _Running, opts: DemoOptions, stop: threading.Event, console: Console
) -> None:
    from syncloom.demo_live import LiveEdits

    erp_urls = {erp: running.servers[erp].base_url for erp in running.tenants}
    live = LiveEdits(
        node, running.tenants, erp_urls, running.ca_file, random.Random(opts.seed), console
    )
    while not stop.wait(opts.interval_s):
        if opts.live:
            live.tick()
        for tenant_id, document in running.documents.items():
            for flow in document.flows:
                try:
                    node.poll_now(tenant_id, flow.name)
                except SyncError as exc:
                    console.print(f"poll {flow.name}: {one_line(exc)}", highlight=False)


def run_demo(opts: DemoOptions, console: Console) -> None:
    """Run the demo until Ctrl-C (or once, with ``opts.once``)."""
    from syncloom.cli import prepare, wait_for_interrupt
    from syncloom.control import NodeControl
    from syncloom.engine.intake_api import intake_router
    from syncloom.node import Node
    from syncloom.portal.app import start as start_portal
    from syncloom.settings import load_settings
    from syncloom.store import make_engine, session_factory

    shutil.rmtree(opts.directory, ignore_errors=True)
    opts.directory.mkdir(parents=True)
    settings = load_settings(
        database_url=f"sqlite:///{opts.directory / 'syncloom.db'}",
        key_file=str(opts.directory / "master.key"),
        web_port=opts.web_port,
    )
    running = _Running()
    with ExitStack() as stack:
        _start_simulators(stack, opts, running)
        console.print(_simulator_table(running))
        vault = prepare(settings)
        sessions = session_factory(make_engine(settings.database_url))
        _install(sessions, vault, running, opts)
        node = Node(settings.database_url, sessions, vault)
        node.start()
        stack.callback(node.stop)
        hooks = intake_router(node.intake())
        stack.callback(start_portal(settings, vault, engine=NodeControl(node), routers=[hooks]))
        if opts.web_port:
            _register_webhooks(running, opts.web_port)
        _initial_load(node, running, console)
        console.print(summary(node, running))
        console.print(
            f"portal: http://127.0.0.1:{opts.web_port}/  sign in as {ADMIN_EMAIL} / "
            f"{ADMIN_PASSWORD}",
            highlight=False,
        )
        if opts.once:
            return
        stop = threading.Event()
        worker = threading.Thread(
            target=_keep_syncing, daemon=True, args=(node, running, opts, stop, console)
        )
        worker.start()
        console.print(
            "syncing every "
            f"{opts.interval_s:g} s{' with live edits' if opts.live else ''}; "
            "press Ctrl-C to stop",
            highlight=False,
        )
        wait_for_interrupt()
        stop.set()
