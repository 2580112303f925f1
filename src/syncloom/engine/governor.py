"""Governor: one Connection's API budget, shared by every worker through the database.

Before each request to a system, a worker asks the Governor for a slot. The bucket's state
lives in one ``governor_buckets`` row, taken under a write lock for the few microseconds of
:func:`~syncloom.engine.budget.take`, so workers on any number of machines never exceed the
Connection's rate, in-flight cap or daily quota together. A 429 halves the rate and blocks the
bucket for the server's ``Retry-After``; successes bring the rate back gradually.

Every take and release waiting in one process (one event loop) goes to the database together,
in one transaction on the bucket row (:class:`DrawBatch`): with sixteen record jobs in flight
that is one write where there were up to thirty-two, and the row lock, the database's
busiest, is held once. Each draw is still applied to the stored state one by one, so the limits
hold exactly as if the draws had come one at a time.
"""

from __future__ import annotations

import asyncio
import uuid
import weakref
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from syncloom.engine.budget import BucketState, Grant, Limits, current_rate, release, take
from syncloom.engine.clock import Clock
from syncloom.errors import ThrottledError
from syncloom.store.models import GovernorBucket

__all__ = ["DrawBatch", "Governor", "GovernorStats", "Release", "release_departed"]


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


@dataclass(frozen=True, slots=True)
class Release:
    """A slot given back: its lease, and whether the system answered with a throttle."""

    lease_id: str
    throttled: bool = False
    retry_after_s: float | None = None


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
        # One batch per event loop: its futures belong to that loop.
        self._batches: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, DrawBatch] = (
            weakref.WeakKeyDictionary()
        )

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

    def draw(self, releases: Sequence[Release], takes: Sequence[str]) -> list[Grant]:
        """Give slots back, then try to take one per lease id: one transaction for all.

        Args:
            releases: slots to give back first (their room is free for the takes).
            takes: lease ids of the slots wanted, served in order.

        Returns:
            One grant or refusal per take, in order.
        """
        with self._sessions.begin() as session:
            row = self._locked(session)
            state = _to_state(row)
            now = self._clock.now_utc()
            for given in releases:
                state = release(
                    state,
                    self.limits,
                    now,
                    given.lease_id,
                    throttled=given.throttled,
                    retry_after_s=given.retry_after_s,
                )
            grants = []
            for lease_id in takes:
                grant = take(state, self.limits, now, lease_id)
                state = grant.state
                grants.append(grant)
            _store(row, state)
            return grants

    def try_acquire(self, lease_id: str) -> Grant:
        """One attempt to take a slot; commits the bucket's new state."""
        return self.draw((), (lease_id,))[0]

    async def acquire(self) -> str:
        """Wait until the budget grants a slot; returns the lease id to release."""
        lease_id = f"{self.owner}:{uuid.uuid4().hex}" if self.owner else uuid.uuid4().hex
        while True:
            grant = await self._batch().take(lease_id)
            if grant.granted:
                return lease_id
            self.waits += 1
            await asyncio.sleep(min(max(grant.wait_s, 0.001), 5.0))

    def release(
        self, lease_id: str, *, throttled: bool = False, retry_after_s: float | None = None
    ) -> None:
        """Give the slot back; a throttled answer slows the whole Connection down."""
        self.draw((Release(lease_id, throttled, retry_after_s),), ())

    def _batch(self) -> DrawBatch:
        loop = asyncio.get_running_loop()
        batch = self._batches.get(loop)
        if batch is None:
            batch = self._batches[loop] = DrawBatch(self)
        return batch

    @asynccontextmanager
    async def slot(self) -> AsyncIterator[None]:
        """Hold one slot for the duration of a request; reports throttling on the way out."""
        lease_id = await self.acquire()
        try:
            yield
        except ThrottledError as exc:
            await self._batch().give_back(Release(lease_id, True, exc.retry_after_s))
            raise
        except BaseException:
            await self._batch().give_back(Release(lease_id))
            raise
        else:
            await self._batch().give_back(Release(lease_id))

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


class DrawBatch:
    """The takes and releases one event loop is waiting for, sent as one transaction.

    Why batch? Every request to a system takes a slot and gives it back, and each was a write
    transaction on the Connection's bucket row; with many jobs in flight they queued on that
    row's lock. While one transaction is on its way, the draws that arrive wait and go together
    in the next one, so a busy process writes the row about once per round trip, not twice per
    request, and an idle one still answers at once.
    """

    def __init__(self, governor: Governor) -> None:
        self._governor = governor
        self._takes: list[tuple[str, asyncio.Future[Grant]]] = []
        self._releases: list[tuple[Release, asyncio.Future[None]]] = []
        self._flushing = False

    async def take(self, lease_id: str) -> Grant:
        """Ask for one slot in the next transaction; returns the grant or the refusal."""
        future: asyncio.Future[Grant] = asyncio.get_running_loop().create_future()
        self._takes.append((lease_id, future))
        self._kick()
        return await future

    async def give_back(self, given: Release) -> None:
        """Give one slot back in the next transaction; returns once it is committed."""
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._releases.append((given, future))
        self._kick()
        await future

    def _kick(self) -> None:
        if not self._flushing:
            self._flushing = True
            asyncio.get_running_loop().create_task(self._flush())

    async def _flush(self) -> None:
        try:
            while self._takes or self._releases:
                takes, self._takes = self._takes, []
                releases, self._releases = self._releases, []
                await self._send(takes, releases)
        finally:
            self._flushing = False

    async def _send(
        self,
        takes: list[tuple[str, asyncio.Future[Grant]]],
        releases: list[tuple[Release, asyncio.Future[None]]],
    ) -> None:
        waiting: list[asyncio.Future[Any]] = [f for _, f in takes] + [f for _, f in releases]
        try:
            grants = await asyncio.to_thread(
                self._governor.draw, [r for r, _ in releases], [t for t, _ in takes]
            )
        except Exception as exc:  # each waiter gets the database's error, as if it had asked
            for future in waiting:
                if not future.done():
                    future.set_exception(exc)
            return
        for (lease_id, future), grant in zip(takes, grants, strict=True):
            if not future.done():
                future.set_result(grant)
            elif grant.granted:  # its asker gave up waiting: give the slot straight back
                self._releases.append((Release(lease_id), _detached()))
        for _, released in releases:
            if not released.done():
                released.set_result(None)


def _detached() -> asyncio.Future[None]:
    """A future nobody awaits, for a release the batch makes on its own."""
    return asyncio.get_running_loop().create_future()


def release_departed(sessions: sessionmaker[Session], executor_ids: Sequence[str]) -> int:
    """Free every slot that departed executors left leased, on every Connection.

    A worker that comes back reclaims its own slots (:meth:`Governor.reclaim`); one that never
    comes back would hold them until their leases expire, and on a Connection with a budget of
    two requests in flight that stalls every worker. Only name executors that are really gone.

    Returns:
        How many slots were freed.
    """
    prefixes = tuple(f"{executor_id}:" for executor_id in executor_ids if executor_id)
    if not prefixes:
        return 0
    freed = 0
    with sessions.begin() as session:
        for row in session.scalars(select(GovernorBucket).with_for_update()):
            state = _to_state(row)
            kept = tuple(lease for lease in state.leases if not lease[0].startswith(prefixes))
            if len(kept) != len(state.leases):
                freed += len(state.leases) - len(kept)
                _store(row, replace(state, leases=kept))
    return freed
