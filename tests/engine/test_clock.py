from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from syncloom.engine.clock import FrozenClock, SystemClock


def test_frozen_clock_moves_only_when_told():
    clock = FrozenClock(datetime(2026, 1, 1, tzinfo=UTC))
    assert clock.now_utc() == datetime(2026, 1, 1, tzinfo=UTC)
    clock.advance(timedelta(minutes=5))
    assert clock.now_utc() == datetime(2026, 1, 1, 0, 5, tzinfo=UTC)
    with pytest.raises(ValueError, match="backwards"):
        clock.advance(timedelta(seconds=-1))


def test_frozen_clock_refuses_naive_time():
    with pytest.raises(ValueError, match="naive"):
        FrozenClock(datetime(2026, 1, 1))  # noqa: DTZ001


def test_system_clock_is_aware_utc():
    assert SystemClock().now_utc().tzinfo is UTC
