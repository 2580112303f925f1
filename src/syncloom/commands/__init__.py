"""The ``syncloom`` sub-commands: flows, dlq, connections, and the worker/web/recover processes."""

from __future__ import annotations

import typer

from syncloom.commands.connections import connections_app
from syncloom.commands.dlq import dlq_app
from syncloom.commands.flows import flows_app, reconcile_flow
from syncloom.commands.privacy import privacy_app
from syncloom.commands.processes import register as register_processes

__all__ = ["register"]


def register(app: typer.Typer) -> None:
    """Add the operating sub-commands to the main command."""
    app.add_typer(flows_app, name="flows")
    app.add_typer(dlq_app, name="dlq")
    app.add_typer(connections_app, name="connections")
    app.add_typer(privacy_app, name="privacy")

    @app.command("reconcile")
    def reconcile(flow: str, tenant: str | None = None) -> None:
        """Compare both sides of a flow: counts, sums, unmatched keys, mismatched fields."""
        reconcile_flow(flow, tenant)

    register_processes(app)
