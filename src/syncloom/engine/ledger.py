"""SqlWriteLedger: the written-value ledger of echo suppression, kept in the database.

After every write the engine remembers a hash of the values the written record now holds; a
change hint whose record still hashes the same is our own write coming back, not a change.
"""

from __future__ import annotations

from sqlalchemy import Select
from sqlalchemy.orm import Session, sessionmaker

from syncloom.engine.clock import Clock
from syncloom.store.models import WriteLedgerEntry

__all__ = ["SqlWriteLedger"]


class SqlWriteLedger:
    """A :class:`~syncloom.engine.echo.WriteLedger` over the ``write_ledger`` table."""

    def __init__(self, sessions: sessionmaker[Session], tenant_id: int, clock: Clock) -> None:
        self._sessions = sessions
        self._tenant_id = tenant_id
        self._clock = clock

    def remember(self, system_key: str, values_hash: str) -> None:
        """Record the hash of what ``system_key`` holds after our write, in its own commit."""
        with self._sessions.begin() as session:
            self.remember_in(session, system_key, values_hash)

    def remember_in(self, session: Session, system_key: str, values_hash: str) -> None:
        """Record the hash inside the caller's transaction (with the link and the log)."""
        row = session.scalar(self._select(system_key))
        if row is None:
            row = WriteLedgerEntry(
                tenant_id=self._tenant_id,
                system=system_key.split(":", 1)[0],
                record_key=system_key,
                values_hash=values_hash,
            )
            session.add(row)
        row.values_hash = values_hash
        row.written_at = self._clock.now_utc()

    def matches(self, system_key: str, values_hash: str) -> bool:
        """Return True when our last write to ``system_key`` left exactly these values."""
        with self._sessions() as session:
            row = session.scalar(self._select(system_key))
            return row is not None and row.values_hash == values_hash

    def _select(self, system_key: str) -> Select[WriteLedgerEntry]:
        return WriteLedgerEntry.scoped(self._tenant_id).where(
            WriteLedgerEntry.record_key == system_key
        )
