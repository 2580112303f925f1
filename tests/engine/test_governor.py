"""The Governor over a real SQLite database: draws waiting together share one transaction.

The transactions are counted at the database (every commit the engine sends), and the limits
are checked by what the requests themselves see: how many are inside their slot at once.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa

from syncloom.engine.budget import Limits
from syncloom.engine.clock import FrozenClock
from syncloom.engine.governor import Governor
from syncloom.errors import ThrottledError
from syncloom.store import make_engine, session_factory, upgrade
from syncloom.store.accounts import Accounts
from syncloom.store.models import Connection

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


class Bucket:
    """A migrated database with one Connection, counting the transactions committed."""

    def __init__(self, url: str) -> None:
        self.engine = make_engine(url)
        self.sessions = session_factory(self.engine)
        self.writes = 0
        sa.event.listen(self.engine, "commit", self._count)
        with self.sessions.begin() as session:
            tenant = Accounts(session).create_tenant("acme", "Acme")
            row = Connection(tenant_id=tenant.id, name="erp", system="x", base_url="http://x")
            session.add(row)
            session.flush()
            self.tenant_id, self.connection_id = tenant.id, row.id

    def _count(self, _conn) -> None:
        self.writes += 1

    def governor(self, limits: Limits, clock: FrozenClock | None = None) -> Governor:
        governor = Governor(
            self.sessions,
            tenant_id=self.tenant_id,
            connection_id=self.connection_id,
            limits=limits,
            clock=clock or FrozenClock(NOW),
            owner="w1",
        )
        governor.ensure()
        return governor


@pytest.fixture
def bucket(tmp_path) -> Iterator[Bucket]:
    url = f"sqlite:///{tmp_path / 'governor.db'}"
    upgrade(url)
    made = Bucket(url)
    yield made
    made.engine.dispose()


async def _requests(governor: Governor, count: int, hold_s: float = 0.0) -> int:
    """Send ``count`` requests at once through slots; returns the most inside at one time."""
    inside = peak = 0

    async def request() -> None:
        nonlocal inside, peak
        async with governor.slot():
            inside += 1
            peak = max(peak, inside)
            await asyncio.sleep(hold_s)
            inside -= 1

    await asyncio.gather(*(request() for _ in range(count)))
    return peak


def test_requests_waiting_together_share_transactions(bucket):
    governor = bucket.governor(Limits(rate_per_s=1000, burst=100, max_in_flight=32))
    bucket.writes = 0
    asyncio.run(_requests(governor, 16))
    # One at a time, 16 requests are 32 transactions (a take and a release each).
    assert 2 <= bucket.writes <= 8
    assert governor.stats().in_flight == 0


def test_a_lone_request_is_served_at_once(bucket):
    governor = bucket.governor(Limits())
    bucket.writes = 0
    asyncio.run(_requests(governor, 1))
    assert bucket.writes == 2
    assert governor.stats().in_flight == 0


def test_batched_draws_never_pass_the_in_flight_cap(bucket):
    clock = FrozenClock(NOW)
    governor = bucket.governor(Limits(rate_per_s=1000, burst=100, max_in_flight=3), clock)
    peak = asyncio.run(_requests(governor, 12, hold_s=0.01))
    assert peak == 3
    assert governor.stats().in_flight == 0


def test_batched_draws_never_pass_the_burst(bucket):
    # The clock stands still, so no token comes back: exactly the burst is granted.
    governor = bucket.governor(Limits(rate_per_s=1, burst=5, max_in_flight=50))

    async def race() -> list[bool]:
        async def one() -> bool:
            try:
                await asyncio.wait_for(governor.acquire(), timeout=0.5)
            except TimeoutError:
                return False
            return True

        return await asyncio.gather(*(one() for _ in range(9)))

    granted = asyncio.run(race())
    assert granted.count(True) == 5
    assert governor.stats().day_count == 5


def test_a_throttled_answer_in_a_batch_slows_the_connection(bucket):
    governor = bucket.governor(Limits(rate_per_s=100, burst=10, max_in_flight=8))

    async def throttled_among_others() -> None:
        async def ok() -> None:
            async with governor.slot():
                await asyncio.sleep(0)

        async def refused() -> None:
            with pytest.raises(ThrottledError):
                async with governor.slot():
                    raise ThrottledError("slow down", retry_after_s=30)

        await asyncio.gather(ok(), refused(), ok())

    asyncio.run(throttled_among_others())
    stats = governor.stats()
    assert stats.factor < 1.0
    assert stats.blocked_until is not None
    assert stats.in_flight == 0
