"""Schedule: when a flow's cron fires in its time zone, and when batch windows are open.

When does "every day at 02:30 in New York" fire on the day clocks spring forward, when 02:30
does not exist, or fall back, when 01:30 happens twice? Once each: cron is read in local wall
time, a wall time skipped by a spring-forward fires at the same instant the clock would have
shown it before the change (02:30 EST, which is 03:30 EDT), and a repeated wall time fires at
its first occurrence only. All instants in and out are UTC.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from croniter import croniter

from syncloom.connectors.base import ensure_utc
from syncloom.engine.flows import BatchWindowSpec

__all__ = ["BatchWindow", "next_fire"]

_MAX_STEPS = 1000


def _zone(tz: str | ZoneInfo) -> ZoneInfo:
    return tz if isinstance(tz, ZoneInfo) else ZoneInfo(tz)


def _instant(wall: datetime, zone: ZoneInfo) -> datetime:
    # fold=0 picks the first of a repeated wall time and, for a skipped one, the offset in
    # force before the change; both give exactly one firing per wall time.
    return wall.replace(tzinfo=zone, fold=0).astimezone(UTC)


def next_fire(cron: str, tz: str | ZoneInfo, after_utc: datetime) -> datetime:
    """Return the first instant strictly after ``after_utc`` at which ``cron`` fires in ``tz``.

    Args:
        cron: a five-field cron expression read in local wall time.
        tz: an IANA time zone name or ``ZoneInfo``.
        after_utc: an aware instant.

    Raises:
        ValueError: on an invalid cron, unknown zone, naive ``after_utc``, or a cron that
            never fires.
    """
    zone = _zone(tz)
    after = ensure_utc(after_utc)
    wall_after = after.astimezone(zone).replace(tzinfo=None)
    # Start an hour early: after a fall-back, local wall time runs backwards for an hour and
    # a wall time already passed once may lie just behind ``wall_after``.
    walls = croniter(cron, wall_after - timedelta(hours=1))
    for _ in range(_MAX_STEPS):
        wall: datetime = walls.get_next(datetime)
        if _instant(wall, zone) > after:
            return _instant(wall, zone)
    raise ValueError(f"cron {cron!r} does not fire within {_MAX_STEPS} steps after {after}")


@dataclass(frozen=True, slots=True)
class BatchWindow:
    """A daily time range in a time zone (it may cross midnight) on some weekdays.

    Example::

        night = BatchWindow(time(22), time(6), ZoneInfo("Europe/Berlin"))
        night.is_open(now_utc)
    """

    start: time
    end: time
    zone: ZoneInfo
    weekdays: frozenset[int] = frozenset(range(7))

    @classmethod
    def from_spec(cls, spec: BatchWindowSpec) -> BatchWindow:
        """Build the window declared in a flow document."""
        return cls(
            spec.start, spec.end, ZoneInfo(spec.timezone), frozenset(d.number for d in spec.days)
        )

    def _opening(self, day: date) -> tuple[datetime, datetime]:
        """The UTC start and end of the window that opens on local ``day``."""
        start = datetime.combine(day, self.start)
        end_day = day if self.end > self.start else day + timedelta(days=1)
        end = datetime.combine(end_day, self.end)
        return _instant(start, self.zone), _instant(end, self.zone)

    def _openings(self, around: date) -> Collection[tuple[datetime, datetime]]:
        days = (around + timedelta(days=n) for n in range(-1, 9))
        return [self._opening(day) for day in days if day.weekday() in self.weekdays]

    def is_open(self, now_utc: datetime) -> bool:
        """Return True when ``now_utc`` falls inside an opening of the window."""
        now = ensure_utc(now_utc)
        local_day = now.astimezone(self.zone).date()
        return any(start <= now < end for start, end in self._openings(local_day))

    def next_open(self, now_utc: datetime) -> datetime:
        """Return ``now_utc`` when open, else the instant the window next opens.

        Raises:
            ValueError: when the window has no weekdays.
        """
        now = ensure_utc(now_utc)
        if self.is_open(now):
            return now
        local_day = now.astimezone(self.zone).date()
        starts = [start for start, _ in self._openings(local_day) if start > now]
        if not starts:
            raise ValueError("the batch window is never open")
        return min(starts)
