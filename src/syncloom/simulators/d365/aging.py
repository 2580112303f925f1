"""Aging: how overdue an open customer transaction is, as of the simulator's clock.

F&O ages open transactions against today's date (the collections and aging reports do); the
simulator's custom ``CustomerOpenTransactions`` set carries the result as ``DaysOverdue``,
``IsOverdue`` and ``OverdueAmount``, stamped on every read, so a test that moves the clock
(``/_sim/clock``) sees an unpaid invoice fall due. Aging changes no modification stamp, as in
F&O: nothing was edited.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from syncloom.simulators.d365.entities import EntitySet
from syncloom.simulators.d365.queries import parse_instant
from syncloom.simulators.d365.rows import Row

AGED = "CustomerOpenTransactions"


def ager(now: Callable[[], datetime]) -> Callable[[EntitySet, Row], None]:
    """A read hook that ages the open transactions as of ``now()``."""

    def refresh(entity: EntitySet, row: Row) -> None:
        if entity.name == AGED:
            age(row, now())

    return refresh


def age(row: Row, now: datetime) -> None:
    """Stamp ``DaysOverdue`` and ``IsOverdue`` of one open transaction."""
    due_text = str(row.get("DueDate") or "")
    days = 0
    if row.get("IsSettled") != "Yes" and due_text and not due_text.startswith("1900-01-01"):
        days = max((now.date() - parse_instant(due_text).date()).days, 0)
    row["DaysOverdue"] = days
    row["IsOverdue"] = "Yes" if days > 0 else "No"
    row["OverdueAmount"] = row.get("RemainingAmount", 0) if days > 0 else 0
