"""Connecting to the database: URL normalisation, engines with the right pragmas, sessions.

One SQLite file on a laptop, one PostgreSQL database when scaled out; both through here.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import StaticPool

from syncloom.errors import ConfigError
from syncloom.store import sqlite_writers

__all__ = ["describe_url", "make_engine", "normalize_url", "session_factory", "sqlite_path"]

SQLITE_BUSY_TIMEOUT_MS = 5_000
POSTGRES_POOL_SIZE = 16
_POSTGRES_NAMES = {"postgres", "postgresql", "postgresql+psycopg"}


def normalize_url(url: str | URL) -> URL:
    """Parse a database URL and pick our drivers (psycopg 3 for PostgreSQL).

    Args:
        url: ``sqlite:///path``, ``sqlite://`` (memory) or ``postgresql://user@host/db``.

    Returns:
        The parsed URL, with ``postgresql://`` and ``postgres://`` turned into
        ``postgresql+psycopg://``.

    Raises:
        ConfigError: the URL cannot be parsed or names a database we do not support. The
            message never repeats the URL, which may hold a password.
    """
    try:
        parsed = make_url(url)
    except (ArgumentError, ValueError):
        raise ConfigError(
            "the database URL cannot be parsed; expected sqlite:///path/to/file.db "
            "or postgresql://user@host/dbname"
        ) from None
    if parsed.drivername in _POSTGRES_NAMES:
        return parsed.set(drivername="postgresql+psycopg")
    if parsed.drivername in {"sqlite", "sqlite+pysqlite"}:
        return parsed
    raise ConfigError(
        f"unsupported database {parsed.drivername!r}; use sqlite:///path or postgresql://..."
    )


def describe_url(url: str | URL) -> str:
    """The URL with its password hidden, fit for logs and messages."""
    return normalize_url(url).render_as_string(hide_password=True)


def sqlite_path(url: URL) -> Path | None:
    """The file behind a SQLite URL, or ``None`` for memory and non-SQLite URLs."""
    if url.get_backend_name() != "sqlite" or url.database in (None, "", ":memory:"):
        return None
    return Path(url.database)


def make_engine(url: str | URL, **kwargs: Any) -> Engine:
    """Create an engine; SQLite gets WAL, foreign keys and a busy timeout on every connection.

    The directory of a SQLite file is created when missing.

    Args:
        url: the database URL (see :func:`normalize_url`).
        **kwargs: passed on to :func:`sqlalchemy.create_engine`.

    Returns:
        The engine.

    Raises:
        ConfigError: bad URL, or the SQLite file's directory cannot be created.
    """
    parsed = normalize_url(url)
    if parsed.get_backend_name() != "sqlite":
        kwargs.setdefault("pool_pre_ping", True)
        # A worker's sixteen record jobs make their database calls at once. The stock pool
        # keeps five connections and closes every extra one on return, so a busy worker
        # opened and closed a few PostgreSQL connections a second (each a new server process).
        # Connections are made only as calls need them and then kept.
        kwargs.setdefault("pool_size", POSTGRES_POOL_SIZE)
        kwargs.setdefault("max_overflow", POSTGRES_POOL_SIZE)
        return create_engine(parsed, **kwargs)
    path = sqlite_path(parsed)
    if path is None:
        # One shared connection, or every session would see its own empty memory database.
        kwargs.setdefault("poolclass", StaticPool)
        kwargs.setdefault("connect_args", {"check_same_thread": False})
    else:
        _ensure_directory(path)
    sqlite_writers.install()
    engine = create_engine(parsed, **kwargs)
    event.listen(engine, "connect", _configure_sqlite)
    return engine


def _ensure_directory(path: Path) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ConfigError(
            f"cannot create the directory of the database file {path}: {exc.strerror}"
        ) from None


def _configure_sqlite(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA foreign_keys = ON")
        # WAL lets readers (the portal) work while a writer (a worker) commits.
        cursor.execute("PRAGMA journal_mode = WAL")
        cursor.execute("PRAGMA synchronous = NORMAL")
    finally:
        cursor.close()


def session_factory(engine: Engine) -> sessionmaker[Session]:
    """A session factory whose objects stay readable after commit."""
    return sessionmaker(engine, expire_on_commit=False)
