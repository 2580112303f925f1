"""Preflight: can this interpreter run the durable runtime on the configured database?

DBOS keeps its queue on SQLite with SQL that needs SQLite 3.42 when it runs under Python 3.12
or newer. The standard library links whatever SQLite the interpreter was built with, so the
failure would otherwise surface as an obscure SQL error deep inside a queue poll. We check once,
at start-up, and say what to do.
"""

from __future__ import annotations

import sqlite3
import sys

from syncloom.errors import ConfigError

__all__ = ["MIN_SQLITE_FOR_PY312", "check_sqlite_support"]

MIN_SQLITE_FOR_PY312 = (3, 42, 0)


def check_sqlite_support(
    database_url: str,
    *,
    python_version: tuple[int, int] | None = None,
    sqlite_version: str | None = None,
) -> None:
    """Refuse to start on a Python/SQLite pair the runtime cannot use.

    Args:
        database_url: The runtime's database URL; only ``sqlite:`` URLs are checked.
        python_version: ``(major, minor)`` of the interpreter; the running one when omitted.
        sqlite_version: Version of the linked SQLite library; the linked one when omitted.

    Raises:
        ConfigError: On Python 3.12 or newer with a SQLite older than 3.42.
    """
    if not database_url.startswith("sqlite"):
        return
    python = python_version or (sys.version_info.major, sys.version_info.minor)
    linked = sqlite_version or sqlite3.sqlite_version
    if python < (3, 12) or _parse_version(linked) >= MIN_SQLITE_FOR_PY312:
        return
    raise ConfigError(
        f"Python {python[0]}.{python[1]} is linked against SQLite {linked}, but the durable "
        "runtime needs SQLite 3.42 or newer on Python 3.12+. Install the bundled build with "
        "`pip install pysqlite3-binary`, upgrade the system SQLite, or use a PostgreSQL "
        "database URL."
    )


def _parse_version(text: str) -> tuple[int, int, int]:
    parts = [int(part) for part in text.split(".")[:3] if part.isdigit()]
    major, minor, patch = (parts + [0, 0, 0])[:3]
    return (major, minor, patch)
