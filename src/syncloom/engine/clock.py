"""Clock: where "now" comes from.

Engine logic never calls ``datetime.now()``; it asks an injected :class:`Clock`, so tests can
freeze and step time and every decision that depends on time is reproducible.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Protocol

from syncloom.connectors.base import ensure_utc

__all__ = ["Clock", "FrozenClock", "SystemClock"]


class Clock(Protocol):
    """What time is it? The one question engine logic may ask about time."""

    def now_utc(self) -> datetime:
        """Return the current instant, timezone-aware, in UTC."""
        ...


class SystemClock:
    """The real clock of the machine."""

    def now_utc(self) -> datetime:
        """Return the machine's current instant in UTC."""
        return datetime.now(UTC)


class FrozenClock:
    """A clock that only moves when told to; for tests and replays.

    Example::

        clock = FrozenClock(datetime(2026, 1, 1, tzinfo=UTC))
        clock.advance(timedelta(minutes=5))
    """

    def __init__(self, start_utc: datetime) -> None:
        self._now = ensure_utc(start_utc)

    def now_utc(self) -> datetime:
        """Return the frozen instant."""
        return self._now

    def advance(self, delta: timedelta) -> None:
        """Move the clock forward by ``delta`` (never backwards)."""
        if delta < timedelta(0):
            raise ValueError("a clock does not run backwards")
        self._now += delta

    def set(self, moment: datetime) -> None:
        """Jump to ``moment``."""
        self._now = ensure_utc(moment)
