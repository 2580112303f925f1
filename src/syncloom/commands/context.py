"""What every operating command needs: settings, the store, the vault and the tenant."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from sqlalchemy.orm import Session, sessionmaker

from syncloom.errors import ConfigError, SyncError

if TYPE_CHECKING:
    from syncloom.vault import Vault

console = Console(stderr=True)
out = Console()

TenantOption = Annotated[
    str | None, typer.Option("--tenant", help="Tenant slug (default: the only tenant).")
]


def fail(message: str, code: int = 2) -> typer.Exit:
    """Print one clear line on stderr and return the exit to raise."""
    console.print(f"[red]error:[/red] {message}", highlight=False, soft_wrap=True)
    return typer.Exit(code)


@contextmanager
def errors() -> Iterator[None]:
    """Turn any SyncError into one line on stderr and exit 2."""
    try:
        yield
    except SyncError as exc:
        raise fail(one_line(exc)) from None


def one_line(exc: SyncError) -> str:
    """The error on one line; a flow document's problems joined, each with its path."""
    problems = getattr(exc, "problems", None)
    if problems:
        return f"flow document has {len(problems)} problem(s): " + "; ".join(map(str, problems))
    return str(exc).splitlines()[0]


@dataclass
class Context:
    """The opened store and vault, and the tenant the command acts for."""

    database_url: str
    sessions: sessionmaker[Session]
    vault: Vault
    tenant_id: int


def open_context(tenant: str | None) -> Context:
    """Read the settings, open the store and the vault, and pick the tenant.

    Raises:
        typer.Exit: with one line on stderr for any configuration problem.
    """
    from syncloom.settings import load_settings
    from syncloom.store import make_engine, session_factory, upgrade
    from syncloom.vault import open_vault

    with errors():
        settings = load_settings()
        upgrade(settings.database_url)
        engine = make_engine(settings.database_url)
        vault = open_vault(settings, engine)
        sessions = session_factory(engine)
        return Context(settings.database_url, sessions, vault, _tenant_id(sessions, tenant))


def _tenant_id(sessions: sessionmaker[Session], slug: str | None) -> int:
    from syncloom.store.models import Tenant

    with sessions() as session:
        tenants = session.query(Tenant).all()
        if slug is not None:
            found = [t for t in tenants if t.slug == slug]
            if not found:
                raise ConfigError(f"no tenant {slug!r}")
            return found[0].id
        if len(tenants) == 1:
            return tenants[0].id
        if not tenants:
            raise ConfigError("no tenant yet; create one with `syncloom connections add`")
        raise ConfigError("several tenants: name one with --tenant")
