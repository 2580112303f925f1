"""Migrate: bring the database schema to the newest revision, from code or the CLI.

The Alembic scripts live inside the package (``store/migrations``), so an installed syncloom
can upgrade its database without a checkout or an ``alembic.ini``.
"""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import URL
from sqlalchemy.exc import SQLAlchemyError

from syncloom.errors import ConfigError
from syncloom.store.db import describe_url, make_engine

__all__ = ["VERSION_TABLE", "alembic_config", "current_revision", "head_revision", "upgrade"]

# Our own name, so the table never collides with another tool's Alembic history in one database.
VERSION_TABLE = "syncloom_alembic_version"
MIGRATIONS_DIR = Path(__file__).parent / "migrations"


def alembic_config(url: str | URL | None = None) -> Config:
    """An Alembic configuration pointing at the packaged scripts (and ``url`` when given)."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    if url is not None:
        config.attributes["url"] = url
    return config


def head_revision() -> str:
    """The newest revision the packaged scripts define."""
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    if head is None:
        raise RuntimeError("the packaged migrations define no revision")
    return head


def current_revision(url: str | URL) -> str | None:
    """The revision the database is at, or ``None`` for an empty database.

    Raises:
        ConfigError: the database cannot be reached.
    """
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            context = MigrationContext.configure(conn, opts={"version_table": VERSION_TABLE})
            return context.get_current_revision()
    except SQLAlchemyError as exc:
        raise _unreachable(url, exc) from None
    finally:
        engine.dispose()


def upgrade(url: str | URL, revision: str = "head") -> str | None:
    """Upgrade the database at ``url`` to ``revision`` (the newest by default).

    Args:
        url: the database URL.
        revision: an Alembic revision id, or ``"head"``.

    Returns:
        The revision the database is at afterwards.

    Raises:
        ConfigError: the URL is bad or the database cannot be reached.
    """
    try:
        command.upgrade(alembic_config(url), revision)
    except SQLAlchemyError as exc:
        raise _unreachable(url, exc) from None
    return current_revision(url)


def _unreachable(url: str | URL, exc: SQLAlchemyError) -> ConfigError:
    reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
    return ConfigError(f"cannot use the database at {describe_url(url)}: {reason}")
