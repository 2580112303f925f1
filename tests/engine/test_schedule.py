from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from syncloom.engine.flows import BatchWindowSpec, Weekday
from syncloom.engine.schedule import BatchWindow, next_fire

NEW_YORK = ZoneInfo("America/New_York")
BERLIN = ZoneInfo("Europe/Berlin")


def fires_between(cron, zone, start_utc, end_utc):
    moments, moment = [], start_utc
    while True:
        moment = next_fire(cron, zone, moment)
        if moment >= end_utc:
            return moments
        moments.append(moment)


def local_day(zone, year, month, day):
    start = datetime(year, month, day, tzinfo=zone).astimezone(UTC)
    return start, datetime(year, month, day + 1, tzinfo=zone).astimezone(UTC)


def test_next_fire_reads_cron_in_the_zone():
    after = datetime(2026, 1, 15, 0, tzinfo=UTC)
    assert next_fire("0 9 * * *", "Europe/Berlin", after) == datetime(2026, 1, 15, 8, tzinfo=UTC)
    assert next_fire("0 9 * * *", NEW_YORK, after) == datetime(2026, 1, 15, 14, tzinfo=UTC)


def test_next_fire_is_strictly_after():
    at = datetime(2026, 1, 15, 8, tzinfo=UTC)
    assert next_fire("0 9 * * *", BERLIN, at) == datetime(2026, 1, 16, 8, tzinfo=UTC)


@pytest.mark.parametrize(
    ("zone", "day", "expected_utc"),
    [
        (NEW_YORK, (2026, 3, 8), datetime(2026, 3, 8, 7, 30, tzinfo=UTC)),  # 03:30 EDT
        (BERLIN, (2026, 3, 29), datetime(2026, 3, 29, 1, 30, tzinfo=UTC)),  # 03:30 CEST
    ],
)
def test_daily_0230_fires_once_on_spring_forward_day(zone, day, expected_utc):
    start, end = local_day(zone, *day)
    assert fires_between("30 2 * * *", zone, start, end) == [expected_utc]


@pytest.mark.parametrize(
    ("zone", "day", "expected_utc"),
    [
        (NEW_YORK, (2026, 11, 1), datetime(2026, 11, 1, 5, 30, tzinfo=UTC)),  # 01:30 EDT
        (BERLIN, (2026, 10, 25), datetime(2026, 10, 24, 23, 30, tzinfo=UTC)),  # 01:30 CEST
    ],
)
def test_daily_0130_fires_once_on_fall_back_day(zone, day, expected_utc):
    start, end = local_day(zone, *day)
    assert fires_between("30 1 * * *", zone, start, end) == [expected_utc]


def test_berlin_0230_on_fall_back_day_fires_once():
    start, end = local_day(BERLIN, 2026, 10, 25)
    assert fires_between("30 2 * * *", BERLIN, start, end) == [
        datetime(2026, 10, 25, 0, 30, tzinfo=UTC)
    ]


def test_fires_once_per_day_all_year_round():
    start = datetime(2026, 1, 1, tzinfo=UTC)
    fires = fires_between("30 2 * * *", NEW_YORK, start, start + timedelta(days=365))
    assert len(fires) == 365
    assert len({f.astimezone(NEW_YORK).date() for f in fires}) == 365


def test_invalid_input_is_refused():
    with pytest.raises(ValueError, match="naive"):
        next_fire("* * * * *", "UTC", datetime(2026, 1, 1))  # noqa: DTZ001
    with pytest.raises((ValueError, KeyError)):
        next_fire("* * *", "UTC", datetime(2026, 1, 1, tzinfo=UTC))


NIGHT = BatchWindow(time(22), time(6), BERLIN)


def test_overnight_window_is_open_across_midnight():
    assert NIGHT.is_open(datetime(2026, 1, 15, 21, 30, tzinfo=UTC))  # 22:30 local
    assert NIGHT.is_open(datetime(2026, 1, 16, 4, 59, tzinfo=UTC))  # 05:59 local
    assert not NIGHT.is_open(datetime(2026, 1, 16, 5, 0, tzinfo=UTC))  # 06:00 local
    assert not NIGHT.is_open(datetime(2026, 1, 15, 12, tzinfo=UTC))


def test_next_open():
    noon = datetime(2026, 1, 15, 12, tzinfo=UTC)
    assert NIGHT.next_open(noon) == datetime(2026, 1, 15, 21, tzinfo=UTC)
    inside = datetime(2026, 1, 15, 23, tzinfo=UTC)
    assert NIGHT.next_open(inside) == inside


def test_weekday_windows_from_spec():
    spec = BatchWindowSpec(
        start=time(9), end=time(17), timezone="America/New_York", days=(Weekday.MON,)
    )
    window = BatchWindow.from_spec(spec)
    friday = datetime(2026, 1, 16, 15, tzinfo=UTC)  # Friday 10:00 local
    assert not window.is_open(friday)
    assert window.next_open(friday) == datetime(2026, 1, 19, 14, tzinfo=UTC)


def test_window_in_summer_time_uses_local_hours():
    assert NIGHT.next_open(datetime(2026, 7, 1, 12, tzinfo=UTC)) == datetime(
        2026, 7, 1, 20, tzinfo=UTC
    )


def test_window_without_days_never_opens():
    never = BatchWindow(time(1), time(2), BERLIN, frozenset())
    with pytest.raises(ValueError, match="never open"):
        never.next_open(datetime(2026, 1, 1, tzinfo=UTC))
