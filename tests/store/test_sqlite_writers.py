"""SQLite writers of one process take turns on a lock, not in SQLite's sleeping busy handler."""

from __future__ import annotations

import sqlite3
import threading
import time
from pathlib import Path

import pytest
import sqlalchemy as sa

from syncloom.store.db import make_engine
from syncloom.store.sqlite_writers import SerializedConnection


def _connect(path: Path) -> SerializedConnection:
    # busy_timeout 0: a writer that met the file locked would fail at once, so waiting at
    # all proves the turn was taken on the process lock.
    db = sqlite3.connect(path, factory=SerializedConnection, check_same_thread=False, timeout=0)
    db.execute("PRAGMA journal_mode = WAL")
    return db


@pytest.fixture
def path(tmp_path: Path) -> Path:
    file = tmp_path / "turns.db"
    with sqlite3.connect(file) as db:
        db.execute("CREATE TABLE t (n INTEGER)")
    return file


def test_a_second_writer_waits_for_the_first_to_commit(path: Path) -> None:
    first, second = _connect(path), _connect(path)
    first.execute("INSERT INTO t VALUES (1)")  # holds the write turn until it commits
    done = threading.Event()

    def write() -> None:
        second.execute("INSERT INTO t VALUES (2)")
        second.commit()
        done.set()

    writer = threading.Thread(target=write)
    writer.start()
    assert not done.wait(0.3), "the second writer must wait for the first"
    first.commit()
    writer.join(5)
    assert done.is_set()
    assert [n for (n,) in second.execute("SELECT n FROM t ORDER BY n")] == [1, 2]


def test_readers_never_wait_for_a_writer(path: Path) -> None:
    writer, reader = _connect(path), _connect(path)
    writer.execute("INSERT INTO t VALUES (1)")
    started = time.monotonic()
    assert reader.execute("SELECT count(*) FROM t").fetchone() == (0,)
    assert time.monotonic() - started < 1
    writer.rollback()


def test_the_turn_is_given_back_on_rollback_failure_and_close(path: Path) -> None:
    a, b = _connect(path), _connect(path)
    a.execute("INSERT INTO t VALUES (1)")
    a.rollback()
    with pytest.raises(sqlite3.OperationalError):
        a.execute("INSERT INTO missing VALUES (1)")  # fails before any transaction opens
    a.execute("INSERT INTO t VALUES (2)")
    a.close()
    b.execute("INSERT INTO t VALUES (3)")  # would wait 5 s if any turn were still held
    b.commit()
    assert [n for (n,) in b.execute("SELECT n FROM t")] == [3]


def test_engines_write_from_many_threads_without_database_locked(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'many.db'}", pool_size=16)
    with engine.begin() as conn:
        conn.execute(sa.text("CREATE TABLE t (n INTEGER)"))

    def work(offset: int) -> None:
        for n in range(50):
            with engine.begin() as conn:
                conn.execute(sa.text("SELECT count(*) FROM t")).scalar()
                conn.execute(sa.text("INSERT INTO t VALUES (:n)"), {"n": offset + n})

    threads = [threading.Thread(target=work, args=(k * 1000,)) for k in range(12)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM t")).scalar() == 600
        assert isinstance(conn.connection.dbapi_connection, SerializedConnection)
    engine.dispose()
