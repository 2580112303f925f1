"""The ``syncloom`` command: run, web, worker, demo, sim, db, vault, flows, dlq, reconcile."""

from __future__ import annotations

import importlib
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from syncloom import __version__

app = typer.Typer(
    name="syncloom",
    help="Keeps business records in step between Creatio CRM and ERPs.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
console = Console(stderr=True)

# The one table that turns a system name on the command line into its simulator class.
SIMULATORS: dict[str, str] = {
    "creatio": "syncloom.simulators.creatio.app:CreatioSimulator",
    "intacct": "syncloom.simulators.intacct.app:IntacctSimulator",
    "d365": "syncloom.simulators.d365.app:D365Simulator",
}


def fail(message: str, code: int = 2) -> typer.Exit:
    """Print one clear line and return the exit to raise."""
    console.print(f"[red]error:[/red] {message}", highlight=False)
    return typer.Exit(code)


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


def load_simulator_class(system: str) -> type:
    """Resolve a system name to its simulator class, failing clearly for unknown names."""
    target = SIMULATORS.get(system)
    if target is None:
        raise fail(f"unknown system {system!r}; choose one of {', '.join(SIMULATORS)}")
    module, _, name = target.partition(":")
    try:
        cls: type = getattr(importlib.import_module(module), name)
    except (ImportError, AttributeError):
        raise fail(f"the {system} simulator is not available in this build") from None
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


def main() -> None:
    """Entry point of the ``syncloom`` script."""
    try:
        app()
    except KeyboardInterrupt:
        sys.exit(130)
