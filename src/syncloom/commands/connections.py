"""``syncloom connections``: add and list the systems an installation talks to."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from syncloom.commands.context import TenantOption, errors, fail, open_context, out

connections_app = typer.Typer(
    help="Connections to Creatio, Intacct and D365.", no_args_is_help=True
)


def _pairs(items: list[str], what: str) -> dict[str, str]:
    pairs = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise fail(f"{what} {item!r} is not key=value")
        pairs[key] = value
    return pairs


@connections_app.command("add")
def add(
    name: Annotated[str, typer.Argument(help="A name flows refer to, e.g. crm or erp.")],
    system: Annotated[str, typer.Option(help="creatio, intacct or d365.")],
    base_url: Annotated[str, typer.Option(help="The system's base URL.")],
    secret: Annotated[list[str], typer.Option(help="A credential as key=value (repeat).")] = [],  # noqa: B006
    option: Annotated[list[str], typer.Option(help="A setting as key=value (repeat).")] = [],  # noqa: B006
    tenant: TenantOption = None,
    create_tenant: Annotated[str | None, typer.Option(help="Create this tenant first.")] = None,
) -> None:
    """Add a Connection; credentials are encrypted by the vault and never shown again."""
    from syncloom.node import CONNECTORS
    from syncloom.store.accounts import Accounts
    from syncloom.store.models import Connection
    from syncloom.vault import seal_credentials

    if system not in CONNECTORS:
        raise fail(f"unknown system {system!r}; choose one of {', '.join(CONNECTORS)}")
    secrets, options = _pairs(secret, "secret"), _pairs(option, "option")
    if create_tenant:
        _ensure_tenant(create_tenant)
    ctx = open_context(tenant or create_tenant)
    with errors(), ctx.sessions.begin() as session:
        row = Connection(
            tenant_id=ctx.tenant_id, name=name, system=system, base_url=base_url, options=options
        )
        session.add(row)
        session.flush()
        seal_credentials(ctx.vault, row, secrets)
    del Accounts
    out.print(f"connection {name} ({system}) added", highlight=False)


def _ensure_tenant(slug: str) -> None:
    from syncloom.settings import load_settings
    from syncloom.store import make_engine, session_factory, upgrade
    from syncloom.store.accounts import Accounts
    from syncloom.store.models import Tenant

    with errors():
        settings = load_settings()
        upgrade(settings.database_url)
        sessions = session_factory(make_engine(settings.database_url))
        with sessions.begin() as session:
            if session.query(Tenant).filter_by(slug=slug).first() is None:
                Accounts(session).create_tenant(slug, slug.title())


@connections_app.command("list")
def list_connections(tenant: TenantOption = None) -> None:
    """List the tenant's Connections (never their credentials)."""
    from syncloom.store.models import Connection

    ctx = open_context(tenant)
    table = Table("name", "system", "environment", "base URL")
    with ctx.sessions() as session:
        for row in session.query(Connection).filter_by(tenant_id=ctx.tenant_id):
            table.add_row(row.name, row.system, row.environment.value, row.base_url)
    out.print(table)
