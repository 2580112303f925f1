"""SQLite writers of one process take turns on a lock instead of SQLite's busy handler.

SQLite lets one connection write at a time. A connection that finds the file locked waits in
SQLite's busy handler, which polls by sleeping (1, 2, 5, … up to 100 ms) and does not wake when
the lock is freed. With a few dozen threads writing small transactions (record jobs, the
Governor's bucket, the runtime's checkpoints, all on the same file) most of the wall time went
to those sleeps while the file sat unlocked: the webhook benchmark spent more time waiting for
the lock than holding it.

:class:`SerializedConnection` is the ``sqlite3`` connection every SQLite engine of the process is
made with once :func:`install` has run (syncloom's own and the runtime's, which are created
inside DBOS). Before a statement that opens a write transaction it takes a
lock shared by every connection of this process to the same file, and gives it back when the
transaction ends, so a waiting writer starts the moment the last one commits. Readers never
take it (WAL lets them read during a write). Another process writing the same file still
meets SQLite's own busy handler, as before; and a writer that cannot get the lock within the
busy timeout goes ahead without it, so this can slow nothing down to a deadlock that SQLite
would not also have reported.
"""

from __future__ import annotations

import sqlite3
import threading
from typing import Any

from sqlalchemy import Engine, event

__all__ = ["SerializedConnection", "SerializedCursor", "install"]

# Statements that make pysqlite (or the statement itself) open a write transaction.
_WRITES = frozenset(
    {"INSERT", "UPDATE", "DELETE", "REPLACE", "BEGIN", "SAVEPOINT", "CREATE", "DROP", "ALTER"}
)
_LOCK_WAIT_S = 5.0
_locks: dict[str, threading.Lock] = {}
_locks_guard = threading.Lock()


def _file_lock(path: str) -> threading.Lock:
    with _locks_guard:
        lock = _locks.get(path)
        if lock is None:
            lock = _locks[path] = threading.Lock()
        return lock


def _opens_write(sql: str) -> bool:
    head = sql.lstrip()[:10].split(None, 1)
    return bool(head) and head[0].upper() in _WRITES


class SerializedCursor(sqlite3.Cursor):
    """A cursor that takes its connection's write turn before a write statement."""

    connection: SerializedConnection

    def execute(self, sql: str, parameters: Any = (), /) -> SerializedCursor:  # noqa: D102
        self.connection._before(sql)
        try:
            super().execute(sql, parameters)
        finally:
            self.connection._after()
        return self

    def executemany(self, sql: str, seq_of_parameters: Any, /) -> SerializedCursor:  # noqa: D102
        self.connection._before(sql)
        try:
            super().executemany(sql, seq_of_parameters)
        finally:
            self.connection._after()
        return self


class SerializedConnection(sqlite3.Connection):
    """A ``sqlite3`` connection whose write transactions queue on a per-file process lock.

    Pass it as ``sqlite3.connect(..., factory=SerializedConnection)``; SQLAlchemy does so
    through ``connect_args={"factory": SerializedConnection}``.
    """

    def __init__(self, database: Any, *args: Any, **kwargs: Any) -> None:
        super().__init__(database, *args, **kwargs)
        name = str(database)
        # A memory database has one connection (nothing to take turns with).
        self._lock = None if name in ("", ":memory:") else _file_lock(name)
        self._holding = False

    def cursor(self, factory: Any = SerializedCursor) -> Any:  # noqa: D102
        return super().cursor(factory)

    # The shortcuts run their statement in C, past the cursor's methods; route them through.
    def execute(self, sql: str, parameters: Any = (), /) -> Any:  # noqa: D102
        return self.cursor().execute(sql, parameters)

    def executemany(self, sql: str, seq_of_parameters: Any, /) -> Any:  # noqa: D102
        return self.cursor().executemany(sql, seq_of_parameters)

    def commit(self) -> None:  # noqa: D102
        try:
            super().commit()
        finally:
            self._give_back()

    def rollback(self) -> None:  # noqa: D102
        try:
            super().rollback()
        finally:
            self._give_back()

    def close(self) -> None:  # noqa: D102
        try:
            super().close()
        finally:
            self._give_back()

    def _before(self, sql: str) -> None:
        if self._lock is None or self._holding or self.in_transaction:
            return
        if _opens_write(sql):
            self._holding = self._lock.acquire(timeout=_LOCK_WAIT_S)

    def _after(self) -> None:
        # A statement that ran outside a transaction (autocommit, or one that failed to
        # begin) leaves no transaction to wait for.
        if self._holding and not self.in_transaction:
            self._give_back()

    def _give_back(self) -> None:
        if self._holding:
            self._holding = False
            assert self._lock is not None
            self._lock.release()


_installed = threading.Lock()
_done = False


def install() -> None:
    """Make every SQLite engine in this process connect with :class:`SerializedConnection`.

    A hook on all engines, not only syncloom's: the runtime's engines are created inside DBOS
    on the same file, and a lock only some writers take would leave the rest sleeping in the
    busy handler. Safe to call more than once.
    """
    global _done
    with _installed:
        if not _done:
            event.listen(Engine, "do_connect", _with_factory)
            _done = True


def _with_factory(dialect: Any, _record: Any, _cargs: Any, cparams: dict[str, Any]) -> None:
    if dialect.name == "sqlite":
        cparams.setdefault("factory", SerializedConnection)
