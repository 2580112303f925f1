"""The ``syncloom`` command: run, web, worker, demo, sim, db, vault, flows, dlq, reconcile."""

from __future__ import annotations

import importlib
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, NamedTuple

import typer
from rich.console import Console

from syncloom import __version__
from syncloom.commands.context import console, fail
from syncloom.errors import ConfigError

if TYPE_CHECKING:
    from syncloom.settings import Settings
    from syncloom.vault import Vault

app = typer.Typer(
    name="syncloom",
    help="Keeps business records in step between Creatio CRM and ERPs.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
# The one table that turns a system name on the command line into its simulator class.
SIMULATORS: dict[str, str] = {
    "creatio": "syncloom.simulators.creatio.app:CreatioSimulator",
    "intacct": "syncloom.simulators.intacct.app:IntacctSimulator",
    "d365": "syncloom.simulators.d365.app:D365Simulator",
}


def _version(value: bool) -> None:
    if value:
        typer.echo(f"syncloom {__version__}")
        raise typer.Exit


@app.callback()
def main_options(
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Show the version.")
    ] = False,
) -> None:
    """Keeps business records in step between Creatio CRM and ERPs."""


def find_simulator_class(system: str) -> type | None:
    """The simulator class of a known system, or ``None`` when it is not in this build."""
    module, _, name = SIMULATORS[system].partition(":")
    try:
        cls: type = getattr(importlib.import_module(module), name)
    except (ImportError, AttributeError):
        return None
    return cls


def load_simulator_class(system: str) -> type:
    """Resolve a system name to its simulator class, failing clearly for unknown names."""
    if system not in SIMULATORS:
        raise fail(f"unknown system {system!r}; choose one of {', '.join(SIMULATORS)}")
    cls = find_simulator_class(system)
    if cls is None:
        raise fail(f"the {system} simulator is not available in this build")
    return cls


@app.command()
def sim(
    system: Annotated[str, typer.Argument(help="creatio, intacct or d365")],
    host: Annotated[str, typer.Option(help="Address to bind (loopback by default).")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on (0 picks a free one).")] = 0,
    seed: Annotated[int, typer.Option(help="Seed of the generated data.")] = 1,
    records: Annotated[int, typer.Option(help="How many companies to seed.")] = 50,
    latency_ms: Annotated[float, typer.Option(help="Latency added to every request.")] = 0.0,
    faults: Annotated[str, typer.Option(help="e.g. 429:0.05,500:0.02,timeout:0.01")] = "",
    store: Annotated[Path | None, typer.Option(help="SQLite file to keep state in.")] = None,
    ca_out: Annotated[Path | None, typer.Option(help="Where to write the test CA (TLS).")] = None,
) -> None:
    """Run a simulator of a vendor's server in the foreground."""
    from syncloom.simulators.common.faults import FaultPlan, FaultSpecError
    from syncloom.simulators.common.server import SimulatorServer
    from syncloom.simulators.common.tls import make_certificates

    cls = load_simulator_class(system)
    try:
        plan = FaultPlan(seed=seed)
        plan.configure(faults, latency_ms)
    except FaultSpecError as exc:
        raise fail(str(exc)) from None
    simulator = cls(
        seed=seed, records=records, faults=plan, store_path=str(store) if store else None
    )
    certfile = keyfile = None
    if getattr(cls, "needs_tls", False):
        certs = make_certificates(hosts=(host,))
        certfile, keyfile = str(certs.cert_file), str(certs.key_file)
        if ca_out:
            ca_out.write_bytes(certs.ca_file.read_bytes())
    try:
        server = SimulatorServer(
            simulator, host=host, port=port, certfile=certfile, keyfile=keyfile, log_level="info"
        )
    except OSError as exc:
        raise fail(f"cannot listen on {host}:{port}: {exc.strerror}") from None
    console.print(f"{system} simulator listening on {server.base_url}", highlight=False)
    server.serve_forever()


# --- db, vault -------------------------------------------------------------------------------

db_app = typer.Typer(help="The database: migrations.", no_args_is_help=True)
vault_app = typer.Typer(
    help="The master key and the credentials it protects.", no_args_is_help=True
)
app.add_typer(db_app, name="db")
app.add_typer(vault_app, name="vault")

DatabaseUrl = Annotated[
    str | None,
    typer.Option("--database-url", help="Overrides SYNCLOOM_DATABASE_URL.", show_default=False),
]


@contextmanager
def config_errors() -> Iterator[None]:
    """Turn a ConfigError (bad URL, key, key file...) into one line on stderr and exit 2."""
    try:
        yield
    except ConfigError as exc:
        raise fail(str(exc).splitlines()[0]) from None


def load_cli_settings(**overrides: Any) -> Settings:
    """Read the settings, failing with one clear line."""
    from syncloom.settings import load_settings

    with config_errors():
        return load_settings(**overrides)


@db_app.command("upgrade")
def db_upgrade(database_url: DatabaseUrl = None) -> None:
    """Create or upgrade syncloom's tables, and the runtime's, to the newest revision."""
    from syncloom.engine.runtime import migrate_runtime
    from syncloom.store import describe_url, upgrade

    settings = load_cli_settings(database_url=database_url)
    with config_errors():
        revision = upgrade(settings.database_url)
        # A portal may enqueue before any worker has started (and created these) once.
        migrate_runtime(settings.database_url)
    console.print(
        f"database {describe_url(settings.database_url)} is at revision {revision}",
        highlight=False,
        soft_wrap=True,
    )


@vault_app.command("rotate")
def vault_rotate(
    new_key_file: Annotated[
        Path | None,
        typer.Option(help="Write the new keyring here (uses the key already in it, if any)."),
    ] = None,
    drop_retired: Annotated[
        bool, typer.Option(help="Forget old keys once nothing stored needs them.")
    ] = False,
    database_url: DatabaseUrl = None,
) -> None:
    """Re-encrypt every stored credential under a new master key, keeping the old key."""
    from syncloom.store import make_engine, upgrade
    from syncloom.vault import load_keyring, rotate_master_key

    settings = load_cli_settings(database_url=database_url)
    with config_errors():
        if load_keyring(settings) is None:
            raise ConfigError(f"no master key to rotate: {settings.key_file} does not exist")
        upgrade(settings.database_url)
        engine = make_engine(settings.database_url)
        try:
            report = rotate_master_key(
                settings, engine, new_key_file=new_key_file, drop_retired=drop_retired
            )
        finally:
            engine.dispose()
    retired = ", ".join(report.retired_key_ids) or "none"
    console.print(
        f"re-encrypted {report.resealed} credentials under key {report.current_key_id}; "
        f"keyring {report.keyring_path} (retired keys kept: {retired}). Back it up.",
        highlight=False,
        soft_wrap=True,
    )
    if new_key_file is not None:
        console.print(f"point SYNCLOOM_KEY_FILE at {new_key_file}", highlight=False)


# --- run ---------------------------------------------------------------------------------------

Stopper = Callable[[], None]


_RUNNING: dict[str, Any] = {}


def start_node(settings: Settings, vault: Vault) -> Stopper | None:
    """Launch the node: the durable runtime, every tenant's flows and their schedules."""
    from syncloom.engine.retry import RetryPolicy
    from syncloom.node import Node
    from syncloom.store import make_engine, session_factory

    node = Node(
        settings.database_url,
        session_factory(make_engine(settings.database_url)),
        vault,
        executor_id=settings.executor_id,
        app_version=settings.app_version,
        retry=RetryPolicy(cap_s=settings.retry_cap_s),
    )
    node.start()
    _RUNNING["node"] = node
    return node.stop


def start_portal(settings: Settings, vault: Vault) -> Stopper | None:
    """Start the portal, wired to the running node's controls."""
    try:
        from syncloom.portal.app import start
    except ImportError:
        return None
    from syncloom.control import NodeControl
    from syncloom.engine.intake_api import intake_router

    node = _RUNNING.get("node")
    if node is None:
        stop: Stopper = start(settings, vault)
    else:
        stop = start(
            settings, vault, engine=NodeControl(node), routers=[intake_router(node.intake())]
        )
    console.print(f"portal: http://{settings.web_host}:{settings.web_port}/", highlight=False)
    return stop


# What `syncloom run` starts once the database and the vault are ready, in this order. Each
# starter takes (settings, vault), starts its part without blocking and returns a callable
# that stops it, or None when that part is not in this build. Stopped in reverse order.
RUN_TARGETS: dict[str, Callable[[Settings, Vault], Stopper | None]] = {
    "node": start_node,
    "portal": start_portal,
}


def prepare(settings: Settings) -> Vault:
    """Check the key, upgrade the database and open the vault, writing nothing on bad input.

    Raises:
        ConfigError: bad key or key file, wrong key, unreachable database.
    """
    from sqlalchemy.exc import SQLAlchemyError

    from syncloom.store import describe_url, make_engine, normalize_url, upgrade
    from syncloom.store.db import sqlite_path
    from syncloom.vault import load_keyring, open_vault

    load_keyring(settings)  # a malformed key or corrupt key file stops us before any write
    path = sqlite_path(normalize_url(settings.database_url))
    existed = path is None or path.exists()
    engine = make_engine(settings.database_url)
    try:
        if existed:
            # Check the key against what is already sealed before migrating anything.
            open_vault(settings, engine, on_created=_warn_key_created)
        upgrade(settings.database_url)
        return open_vault(settings, engine, on_created=_warn_key_created)
    except SQLAlchemyError as exc:
        reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
        where = describe_url(settings.database_url)
        raise ConfigError(f"cannot use the database at {where}: {reason}") from None
    finally:
        engine.dispose()


def _warn_key_created(path: Path) -> None:
    console.print(
        f"[yellow]warning:[/yellow] created a new master key at {path} (mode 0600). Back it up: "
        "without it the stored credentials cannot be decrypted.",
        highlight=False,
        soft_wrap=True,
    )


def wait_for_interrupt() -> None:
    """Block until Ctrl-C."""
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        console.print("stopping", highlight=False)


@app.command()
def run(
    database_url: DatabaseUrl = None,
    once: Annotated[
        bool,
        typer.Option("--once", envvar="SYNCLOOM_RUN_ONCE", help="Prepare, start, then exit."),
    ] = False,
) -> None:
    """Run syncloom in one process: upgrade the database, then start the runtime and portal."""
    from syncloom.log import configure_logging

    settings = load_cli_settings(database_url=database_url)
    configure_logging(settings.log_format, settings.log_level)
    with config_errors():
        vault = prepare(settings)
    stoppers: list[Stopper] = []
    try:
        for name, start in RUN_TARGETS.items():
            with config_errors():
                stop = start(settings, vault)
            if stop is None:
                console.print(f"{name}: not in this build yet, skipped", highlight=False)
                continue
            stoppers.append(stop)
            console.print(f"{name}: started", highlight=False)
        console.print(f"syncloom is ready (executor {settings.executor_id})", highlight=False)
        if not once:
            wait_for_interrupt()
    finally:
        for stop in reversed(stoppers):
            stop()


# --- demo --------------------------------------------------------------------------------------


class RunningSimulator(NamedTuple):
    """A simulator started by ``demo``: its server and, for TLS, the CA clients must trust."""

    system: str
    server: Any
    ca_file: Path | None


def start_simulator(system: str, cls: type, port: int, seed: int, records: int) -> RunningSimulator:
    """Start one simulator on loopback in a background thread."""
    from syncloom.simulators.common.faults import FaultPlan
    from syncloom.simulators.common.server import SimulatorServer
    from syncloom.simulators.common.tls import make_certificates

    simulator = cls(seed=seed, records=records, faults=FaultPlan(seed=seed), store_path=None)
    certfile = keyfile = None
    if getattr(cls, "needs_tls", False):
        certs = make_certificates(hosts=("127.0.0.1",))
        certfile, keyfile = str(certs.cert_file), str(certs.key_file)
    try:
        server = SimulatorServer(
            simulator, host="127.0.0.1", port=port, certfile=certfile, keyfile=keyfile
        )
    except OSError as exc:
        raise fail(f"cannot listen on 127.0.0.1:{port} for {system}: {exc.strerror}") from None
    ca_file = certs.ca_file if certfile else None
    return RunningSimulator(system, server.start(), ca_file)


@app.command()
def demo(
    base_port: Annotated[
        int, typer.Option(help="First port; the simulators take the next ones (0: any free).")
    ] = 8601,
    web_port: Annotated[int, typer.Option(help="The portal's port (0: any free).")] = 8600,
    seed: Annotated[int, typer.Option(help="Seed of the generated data.")] = 1,
    records: Annotated[int, typer.Option(help="How many companies each system seeds.")] = 100,
    live: Annotated[bool, typer.Option("--live", help="Make random edits on both sides.")] = False,
    interval_s: Annotated[float, typer.Option(help="Seconds between polls.")] = 10.0,
    once: Annotated[
        bool,
        typer.Option("--once", envvar="SYNCLOOM_DEMO_ONCE", help="Load, print, then exit."),
    ] = False,
) -> None:
    """Simulators, both Solutions, the initial load and the portal, all on loopback."""
    from syncloom.demo import DemoOptions, run_demo

    options = DemoOptions(
        records=records,
        seed=seed,
        base_port=base_port,
        web_port=web_port,
        live=live,
        once=once,
        interval_s=interval_s,
    )
    with config_errors():
        run_demo(options, Console())


def _ca_caption(running: list[RunningSimulator]) -> str:
    cas = [f"{sim.system} TLS CA: {sim.ca_file}" for sim in running if sim.ca_file]
    return "; ".join(cas)


def main() -> None:
    """Entry point of the ``syncloom`` script: errors are one line on stderr, never a panel."""
    try:
        code = app(standalone_mode=False)
    except typer.TyperException as exc:
        message = str(exc).strip()
        if message:  # an empty one means typer has already shown the help
            fail(message.splitlines()[0])
        sys.exit(getattr(exc, "exit_code", 2))
    except (typer.Abort, KeyboardInterrupt):
        sys.exit(130)
    sys.exit(code if isinstance(code, int) else 0)


def _register_commands() -> None:
    from syncloom.commands import register

    register(app)


_register_commands()


if __name__ == "__main__":
    main()
