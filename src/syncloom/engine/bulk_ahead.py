"""PageReader: a bulk run's source pages, the next one read while the current one settles.

Why read ahead? A page costs a read, the engine's own work (plan, claim, write, settle) and
the target's batch calls, one after the other. The read of the next page needs nothing from
the current page but its cursor, so the reader starts it as soon as the current page has
arrived, and its wait (the vendor's latency, the server's work) overlaps the current page's.

What it must not change: a page stays the unit of durability. A page read ahead is only
*read*; nothing is planned, claimed or written from it before the page before it has settled
its checkpoint, because the run takes it only when it asks for the page at that cursor (the
checkpoint's cursor). A run that dies drops it and resumes at its checkpoint, reading the page
again. Each side still has one call in flight at a time: the read ahead holds the source's
gate, which the page's own source writes (the write-backs) take too.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime

from syncloom.connectors.base import ChangePage
from syncloom.engine.record_job import FlowSide

__all__ = ["PageReader"]


@dataclass(frozen=True)
class _Ahead:
    """A read started for the page at ``cursor`` of one run."""

    run_id: int | None
    since: datetime | None
    cursor: str
    task: asyncio.Task[ChangePage]


class PageReader:
    """Reads one source entity's change pages, keeping at most one read ahead."""

    def __init__(self, source: FlowSide, page_size: int, *, read_ahead: bool = True) -> None:
        self.source = source
        self.page_size = page_size
        self.read_ahead = read_ahead
        self._ahead: _Ahead | None = None
        self._gate: asyncio.Lock | None = None
        self._gate_loop: asyncio.AbstractEventLoop | None = None

    @contextlib.asynccontextmanager
    async def gate(self) -> AsyncIterator[None]:
        """Hold the source side for one call, so a read ahead never overlaps its writes."""
        loop = asyncio.get_running_loop()
        if self._gate is None or self._gate_loop is not loop:
            # A lock belongs to one loop; a load driven from another loop gets its own.
            self._gate, self._gate_loop = asyncio.Lock(), loop
        async with self._gate:
            yield

    async def read(
        self, run_id: int | None, since: datetime | None, cursor: str | None
    ) -> ChangePage:
        """The page at ``cursor``, taken from the read ahead when it is that page.

        Once the page has arrived, the read of the page after it starts (when there is one).
        """
        ahead, self._ahead = self._ahead, None
        page: ChangePage | None = None
        if ahead is not None:
            if (ahead.run_id, ahead.since, ahead.cursor) == (run_id, since, cursor):
                page = await ahead.task
            else:
                _cancel(ahead.task)
        if page is None:
            page = await self._read(since, cursor)
        if self.read_ahead and page.cursor is not None:
            task = asyncio.ensure_future(self._read(since, page.cursor))
            task.add_done_callback(_retrieve)
            self._ahead = _Ahead(run_id, since, page.cursor, task)
        return page

    def discard(self) -> None:
        """Drop the read ahead (the run failed or ended); safe from any thread."""
        ahead, self._ahead = self._ahead, None
        if ahead is not None:
            _cancel(ahead.task)

    @property
    def pending(self) -> str | None:
        """The cursor of the page being read ahead, if any (for tests and diagnostics)."""
        return self._ahead.cursor if self._ahead is not None else None

    async def _read(self, since: datetime | None, cursor: str | None) -> ChangePage:
        async with self.gate(), self.source.slot():
            return await self.source.connector.read_changes(
                self.source.entity, since, cursor, self.page_size
            )


def _cancel(task: asyncio.Task[ChangePage]) -> None:
    if task.done():
        return
    loop = task.get_loop()
    try:
        running: asyncio.AbstractEventLoop | None = asyncio.get_running_loop()
    except RuntimeError:
        running = None
    if running is loop:
        task.cancel()
    elif not loop.is_closed():
        # Task.cancel is not thread-safe: a durable step closes its run from a worker thread.
        loop.call_soon_threadsafe(task.cancel)


def _retrieve(task: asyncio.Task[ChangePage]) -> None:
    # A read ahead nobody takes (the run failed meanwhile) must not log "never retrieved";
    # the run that does take it gets its error from awaiting the task.
    if not task.cancelled():
        task.exception()
