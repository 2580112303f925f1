"""Governor: one Connection's API budget, shared by every worker through the database.

Before each request to a system, a worker asks the Governor for a slot. The bucket's state
lives in one ``governor_buckets`` row, taken under a write lock for the few microseconds of
:func:`~syncloom.engine.budget.take`, so workers on any number of machines never exceed the
Connection's rate, in-flight cap or daily quota together. A 429 halves the rate and blocks the
bucket for the server's ``Retry-After``; successes bring the rate back gradually.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import replace
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from syncloom.engine.budget import BucketState, Grant, Limits, current_rate, release, take
from syncloom.engine.clock import Clock
from syncloom.errors import ThrottledError
from syncloom.store.models import GovernorBucket

__all__ = ["Governor", "GovernorStats"]


def _to_state(row: GovernorBucket) -> BucketState:
    leases = tuple((str(lid), datetime.fromisoformat(str(exp))) for lid, exp in row.leases)
    return BucketState(
        tokens=row.tokens,
        updated_at=row.updated_at,
        factor=row.factor,
        blocked_until=row.blocked_until,
        day=row.day,
        day_count=row.day_count,
        leases=leases,
    )


def _store(row: GovernorBucket, state: BucketState) -> None:
    row.tokens, row.updated_at, row.factor = state.tokens, state.updated_at, state.factor
    row.blocked_until, row.day, row.day_count = state.blocked_until, state.day, state.day_count
    row.leases = [[lid, exp.isoformat()] for lid, exp in state.leases]


class GovernorStats:
    """What the dashboard shows of a bucket."""

    def __init__(self, state: BucketState, limits: Limits) -> None:
        self.rate_per_s = current_rate(state, limits)
        self.in_flight = len(state.leases)
        self.day_count = state.day_count
        self.blocked_until = state.blocked_until
        self.factor = state.factor


class Governor:
    """The shared budget of one Connection.

    Example::

        async with governor.slot():
            await connector.update("CustomersV3", key, values)
    """

    def __init__(
        self,
        sessions: sessionmaker[Session],
        *,
        tenant_id: int,
        connection_id: int,
        limits: Limits,
        clock: Clock,
        owner: str = "",
    ) -> None:
        self._sessions = sessions
        self.tenant_id = tenant_id
        self.connection_id = connection_id
        self.limits = limits
        self._clock = clock
        self.owner = owner
        self.waits = 0

    def ensure(self) -> None:
        """Create the bucket row if this Connection has none yet (once, at start-up)."""
        with self._sessions() as session:
            if self._row(session) is not None:
                return
            row = GovernorBucket(
                tenant_id=self.tenant_id, connection_id=self.connection_id, tokens=0.0
            )
            _store(row, BucketState.fresh(self.limits, self._clock.now_utc()))
            session.add(row)
            try:
                session.commit()
            except IntegrityError:
                session.rollback()  # another worker made it first; theirs is as good

    def reclaim(self) -> int:
        """Free the slots a dead process of the same owner left leased; returns how many.

        A SIGKILLed worker never releases its slots, and they would block the Connection's
        whole concurrency budget until their leases expire. An owner (the executor id) runs in
        one process at a time, so its slots found at start-up belong to a dead predecessor.
        """
        if not self.owner:
            return 0
        prefix = f"{self.owner}:"
        with self._sessions.begin() as session:
            row = self._locked(session)
            state = _to_state(row)
            kept = tuple(lease for lease in state.leases if not lease[0].startswith(prefix))
            _store(row, replace(state, leases=kept))
            return len(state.leases) - len(kept)

    def _row(self, session: Session) -> GovernorBucket | None:
        return session.scalar(
            select(GovernorBucket).where(GovernorBucket.connection_id == self.connection_id)
        )

    def _locked(self, session: Session) -> GovernorBucket:
        # Touch the row first: it takes the write lock on SQLite and PostgreSQL alike, so the
        # read below cannot race another worker's read-modify-write.
        session.execute(
            update(GovernorBucket)
            .where(GovernorBucket.connection_id == self.connection_id)
            .values(day=GovernorBucket.day)
        )
        row = self._row(session)
        if row is None:
            raise RuntimeError("Governor.ensure() was not called for this connection")
        return row

    def try_acquire(self, lease_id: str) -> Grant:
        """One attempt to take a slot; commits the bucket's new state."""
        with self._sessions.begin() as session:
            row = self._locked(session)
            grant = take(_to_state(row), self.limits, self._clock.now_utc(), lease_id)
            _store(row, grant.state)
            return grant

    async def acquire(self) -> str:
        """Wait until the budget grants a slot; returns the lease id to release."""
        lease_id = f"{self.owner}:{uuid.uuid4().hex}" if self.owner else uuid.uuid4().hex
        while True:
            grant = await asyncio.to_thread(self.try_acquire, lease_id)
            if grant.granted:
                return lease_id
            self.waits += 1
            await asyncio.sleep(min(max(grant.wait_s, 0.001), 5.0))

    def release(
        self, lease_id: str, *, throttled: bool = False, retry_after_s: float | None = None
    ) -> None:
        """Give the slot back; a throttled answer slows the whole Connection down."""
        with self._sessions.begin() as session:
            row = self._locked(session)
            state = release(
                _to_state(row),
                self.limits,
                self._clock.now_utc(),
                lease_id,
                throttled=throttled,
                retry_after_s=retry_after_s,
            )
            _store(row, state)

    @asynccontextmanager
    async def slot(self) -> AsyncIterator[None]:
        """Hold one slot for the duration of a request; reports throttling on the way out."""
        lease_id = await self.acquire()
        try:
            yield
        except ThrottledError as exc:
            await asyncio.to_thread(
                self.release, lease_id, throttled=True, retry_after_s=exc.retry_after_s
            )
            raise
        except BaseException:
            await asyncio.to_thread(self.release, lease_id)
            raise
        else:
            await asyncio.to_thread(self.release, lease_id)

    def stats(self) -> GovernorStats:
        """The bucket as it stands, for dashboards and tests."""
        with self._sessions() as session:
            row = (
                session.query(GovernorBucket)
                .filter_by(connection_id=self.connection_id)
                .one_or_none()
            )
            state = _to_state(row) if row else BucketState.fresh(self.limits, self._clock.now_utc())
            return GovernorStats(state, self.limits)
