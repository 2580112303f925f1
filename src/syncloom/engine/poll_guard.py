"""PollGuard: at most one scheduled poll of a flow at a time, across every worker.

A flow's cron fires whether or not its last poll has finished. A first poll that reads a large
table (or a source answering slowly) outlasts a two-second schedule, and every fire after it
used to start another poll from the same watermark: each re-read the same pages, the source
answered slower still, and the polls piled up (a 20,000-record load had over a hundred
running at once). A fire that finds its flow being polled now does nothing; the running poll
reads up to the present, and the next fire after it reads what came since.

On PostgreSQL the guard is a session advisory lock held on its own connection in autocommit,
so no transaction stays open for the poll's length and a worker that dies frees it with its
connection. On SQLite every worker of the file is one process, so a lock in the process does.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Engine, func, select

__all__ = ["PollGuard"]

_local_guard = threading.Lock()
_local_locks: dict[tuple[str, str], threading.Lock] = {}


class PollGuard:
    """Who polls which flow now, for one database."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    @contextmanager
    def hold(self, tenant_id: int, flow: str) -> Iterator[bool]:
        """Try to become the flow's one poller; yields whether this caller is.

        Never waits: a caller that is not the poller should skip its poll.
        """
        name = f"poll:{tenant_id}:{flow}"
        if self._engine.dialect.name == "postgresql":
            with self._advisory(name) as held:
                yield held
        else:
            with self._in_process(name) as held:
                yield held

    @contextmanager
    def _advisory(self, name: str) -> Iterator[bool]:
        key = int.from_bytes(
            hashlib.blake2b(name.encode(), digest_size=8).digest(), "big", signed=True
        )
        with self._engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            held = bool(conn.scalar(select(func.pg_try_advisory_lock(key))))
            try:
                yield held
            finally:
                if held:
                    conn.scalar(select(func.pg_advisory_unlock(key)))

    @contextmanager
    def _in_process(self, name: str) -> Iterator[bool]:
        with _local_guard:
            lock = _local_locks.setdefault((str(self._engine.url), name), threading.Lock())
        held = lock.acquire(blocking=False)
        try:
            yield held
        finally:
            if held:
                lock.release()
