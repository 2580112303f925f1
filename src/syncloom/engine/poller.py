"""Poller: reads one flow side's changes since its Watermark and enqueues a job per record.

Each page is one transaction: the jobs for its new versions are enqueued and the watermark
advances together, so a crash between pages re-reads at most one page and loses nothing; a
page that was already enqueued is recognised by the seen versions and not enqueued again.

A flow with batch windows is only read while one of them is open, in its own time zone; outside
them a poll reads nothing, moves no watermark and says when the next window opens. The check
sits here so scheduled polls and polls started by hand obey it alike.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from sqlalchemy import Connection

from syncloom.connectors.base import Record
from syncloom.engine.clock import Clock, SystemClock
from syncloom.engine.record_job import FlowSide
from syncloom.engine.schedule import BatchWindow
from syncloom.engine.watermarks import Watermark, WatermarkStore
from syncloom.errors import ConfigError
from syncloom.log import get_logger

__all__ = ["PollReport", "Poller", "Tx"]

_log = get_logger(__name__)


class Tx(Protocol):
    """An open transaction that can also enqueue jobs (the Runtime's ``Transaction``)."""

    @property
    def connection(self) -> Connection:
        """The transaction's database connection."""
        ...

    def enqueue(
        self,
        queue: str,
        fn: Callable[..., object],
        *args: object,
        partition_key: str | None = None,
        workflow_id: str | None = None,
    ) -> str:
        """Enqueue a durable workflow; it runs only if the transaction commits."""
        ...


@dataclass(frozen=True)
class PollReport:
    """What one poll read and enqueued.

    ``resumes_at`` is set when the poll read nothing because no batch window was open: the
    instant (UTC) the next one opens.
    """

    pages: int
    read: int
    enqueued: int
    watermark: Watermark
    job_ids: tuple[str, ...] = ()
    resumes_at: datetime | None = None


class Poller:
    """The Polling Consumer of one flow side.

    Example::

        poller = Poller(flow="accounts", side=crm_side, store=WatermarkStore(tenant_id),
                        transaction=runtime.transaction, enqueue=enqueue_sync)
        report = await poller.poll()
    """

    def __init__(
        self,
        *,
        flow: str,
        side: FlowSide,
        store: WatermarkStore,
        transaction: Callable[[], AbstractContextManager[Tx]],
        enqueue: Callable[[Tx, Record], str | None],
        overlap: timedelta = timedelta(minutes=2),
        page_size: int = 500,
        windows: Sequence[BatchWindow] = (),
        clock: Clock | None = None,
        sweep: bool = False,
    ) -> None:
        self.flow = flow
        self.side = side
        self.store = store
        self.transaction = transaction
        self.enqueue = enqueue
        self.overlap = overlap
        self.page_size = page_size
        self.windows = tuple(windows)
        self.clock = clock or SystemClock()
        # Read everything on every poll: values that change without a stamp are seen too.
        self.sweep = sweep

    def closed_until(self) -> datetime | None:
        """None while the flow may be read now, else the instant its next window opens."""
        if not self.windows:
            return None
        now = self.clock.now_utc()
        if any(window.is_open(now) for window in self.windows):
            return None
        openings = [window.next_open(now) for window in self.windows if window.weekdays]
        if not openings:
            raise ConfigError(f"flow {self.flow!r}: its batch windows name no weekday")
        return min(openings)

    def _load(self) -> Watermark:
        with self.transaction() as tx:
            return self.store.load(tx.connection, self.flow, self.side.side.value)

    async def poll(self) -> PollReport:
        """Read every page of changes and enqueue what is new; returns the counts.

        Outside every batch window of the flow nothing is read; the report's ``resumes_at``
        says when the next window opens.
        """
        mark = self._load()
        resumes_at = self.closed_until()
        if resumes_at is not None:
            _log.info(
                "poll.outside_batch_window",
                flow=self.flow,
                side=self.side.side.value,
                resumes_at=resumes_at.isoformat(),
            )
            return PollReport(0, 0, 0, mark, resumes_at=resumes_at)
        since = None if self.sweep else mark.since(self.overlap)
        cursor: str | None = None
        pages = read = enqueued = 0
        job_ids: list[str] = []
        while True:
            async with self.side.slot():
                page = await self.side.connector.read_changes(
                    self.side.entity, since, cursor, self.page_size
                )
            records = list(page.records)
            fresh = records if self.sweep else [r for r in records if mark.is_new(r)]
            mark = mark.advanced(records, self.overlap)
            with self.transaction() as tx:
                self.store.save(tx.connection, self.flow, self.side.side.value, mark)
                for record in fresh:
                    job_id = self.enqueue(tx, record)
                    if job_id:
                        job_ids.append(job_id)
            pages, read, enqueued = pages + 1, read + len(records), enqueued + len(fresh)
            cursor = page.cursor
            if cursor is None:
                return PollReport(pages, read, enqueued, mark, tuple(job_ids))
