"""Batch windows: a flow is only polled while one of its windows is open, in its time zone."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import Connection

from syncloom.connectors.base import Record
from syncloom.engine.clock import FrozenClock
from syncloom.engine.poller import Poller
from syncloom.engine.schedule import BatchWindow
from syncloom.store import make_engine
from tests.e2e.world import ACCOUNTS_FLOW, world

BERLIN = ZoneInfo("Europe/Berlin")
# Tuesday 2026-03-10; Berlin is UTC+1 then, so the night window opens at 21:00 UTC.
OPENS = datetime(2026, 3, 10, 21, 0, tzinfo=UTC)

NIGHTLY = ACCOUNTS_FLOW.replace("DIRECTION", "one_way").replace("CONFLICT", "newest_wins") + (
    "    batch_windows:\n      - {start: '22:00', end: '06:00', timezone: Europe/Berlin}\n"
)


@dataclass
class _Tx:
    connection: Connection
    enqueued: list[str]
    ids: Iterator[int] = field(default_factory=itertools.count)

    def enqueue(
        self,
        queue: str,
        fn: Callable[..., object],
        *args: object,
        partition_key: str | None = None,
        workflow_id: str | None = None,
    ) -> str:
        self.enqueued.append(str(args))
        return f"job-{next(self.ids)}"


def _attach(w, clock: FrozenClock) -> list[str]:  # type: ignore[no-untyped-def]
    engine = make_engine(w.database_url)
    enqueued: list[str] = []

    @contextmanager
    def transaction() -> Iterator[_Tx]:
        with engine.begin() as connection:
            yield _Tx(connection, enqueued)

    def enqueue(tx: _Tx, flow: str, record: Record) -> str:
        return tx.enqueue("records", print, flow, str(record.key))

    w.inst.attach(transaction, enqueue)
    for poller in w.inst.unit("accounts").pollers:
        poller.clock = clock
    return enqueued


@pytest.mark.e2e
def test_poll_waits_for_the_window_then_reads_and_stops_at_its_end(tmp_path):
    clock = FrozenClock(OPENS - timedelta(minutes=1))
    with world(tmp_path, NIGHTLY, records=2) as w:
        enqueued = _attach(w, clock)
        (poller,) = w.inst.unit("accounts").pollers
        assert poller.windows == (BatchWindow(time(22), time(6), BERLIN),)

        (closed,) = w.run(w.inst.unit("accounts").poll())
        assert (closed.pages, closed.read, closed.enqueued) == (0, 0, 0)
        assert closed.resumes_at == OPENS
        assert enqueued == []
        assert closed.watermark == poller._load(), "a closed poll must not move the watermark"

        clock.set(OPENS)
        (opened,) = w.run(w.inst.unit("accounts").poll())
        assert opened.resumes_at is None
        assert opened.pages >= 1
        assert opened.enqueued >= 2
        assert len(enqueued) == opened.enqueued

        clock.set(OPENS + timedelta(hours=8))  # 06:00 in Berlin: closed until 22:00 again
        (after,) = w.run(w.inst.unit("accounts").poll())
        assert after.pages == 0
        assert after.resumes_at == OPENS + timedelta(days=1)
        assert len(enqueued) == opened.enqueued


def test_a_poller_without_windows_is_always_open_and_with_several_the_earliest_wins():
    clock = FrozenClock(datetime(2026, 3, 10, 12, 0, tzinfo=UTC))  # 13:00 in Berlin

    def poller(*windows: BatchWindow) -> Poller:
        return Poller(
            flow="accounts",
            side=None,  # type: ignore[arg-type]
            store=None,  # type: ignore[arg-type]
            transaction=None,  # type: ignore[arg-type]
            enqueue=None,  # type: ignore[arg-type]
            windows=windows,
            clock=clock,
        )

    assert poller().closed_until() is None
    evening = BatchWindow(time(18), time(20), BERLIN)
    lunch = BatchWindow(time(12), time(14), BERLIN)
    assert poller(evening).closed_until() == datetime(2026, 3, 10, 17, 0, tzinfo=UTC)
    assert poller(evening, lunch).closed_until() is None
    weekend = BatchWindow(time(0), time(23, 59), BERLIN, frozenset({5, 6}))
    assert poller(weekend, evening).closed_until() == datetime(2026, 3, 10, 17, 0, tzinfo=UTC)
    assert poller(weekend).closed_until() == datetime(2026, 3, 13, 23, 0, tzinfo=UTC)
