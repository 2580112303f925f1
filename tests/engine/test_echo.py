from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest

from syncloom.connectors.base import Record, RecordKey
from syncloom.engine.clock import FrozenClock
from syncloom.engine.echo import (
    EchoFilter,
    EchoReason,
    FlappingDetector,
    InMemoryWriteLedger,
    changed_fields,
)
from syncloom.engine.flows import Flapping

T0 = datetime(2026, 3, 1, 12, tzinfo=UTC)
KEY = RecordKey("erp", "Customer", "C-1")


def record(values, modified_by=None):
    return Record(KEY, values, T0, modified_by=modified_by)


@pytest.fixture
def echo():
    return EchoFilter(InMemoryWriteLedger(), integration_users={"erp": "SVC-Sync"})


def test_integration_user_changes_are_skipped(echo):
    assert echo.incoming(record({}, "svc-sync"), connection="erp") is EchoReason.INTEGRATION_USER
    assert echo.incoming(record({}, "alice"), connection="erp") is None
    assert echo.incoming(record({}, "svc-sync"), connection="crm") is None
    assert echo.incoming(record({}), connection="erp") is None


def test_own_write_is_recognised_by_hash(echo):
    echo.remember_write(str(KEY), {"Name": "Acme", "Limit": Decimal("10.00")})
    assert echo.incoming(record({"Limit": 10, "Name": "Acme"}), connection="erp") is (
        EchoReason.OWN_WRITE
    )
    assert echo.incoming(record({"Limit": 11, "Name": "Acme"}), connection="erp") is None


def test_own_write_check_ignores_fields_we_do_not_write(echo):
    echo.remember_write(str(KEY), {"Name": "Acme"})
    changed = record({"Name": "Acme", "Balance": 99})
    assert echo.incoming(changed, connection="erp") is None
    assert echo.incoming(changed, connection="erp", watched_fields={"Name": None}) is (
        EchoReason.OWN_WRITE
    )


def test_noop_write_is_skipped_with_type_normalisation(echo):
    current = {"Limit": "12.50", "Opened": "2025-01-02", "Memo": None, "Name": "Acme"}
    payload = {"Limit": Decimal("12.5"), "Opened": date(2025, 1, 2), "Memo": "", "Name": "Acme"}
    assert echo.outgoing(payload, current) is EchoReason.NO_OP
    assert echo.outgoing({**payload, "Name": "ACME"}, current) is None
    assert echo.outgoing(payload, None) is None
    assert changed_fields({**payload, "Limit": 12.51}, current) == {"Limit": 12.51}


def test_flapping_detector_pauses_after_threshold_within_window():
    clock = FrozenClock(T0)
    detector = FlappingDetector(clock, max_syncs=3, window=timedelta(minutes=10))
    verdicts = []
    for _ in range(4):
        verdicts.append(detector.record_sync("k").paused)
        clock.advance(timedelta(minutes=1))
    assert verdicts == [False, False, False, True]
    assert detector.is_paused("k")
    assert not detector.is_paused("other")
    detector.resume("k")
    assert not detector.is_paused("k")
    assert detector.record_sync("k").syncs_in_window == 1


def test_flapping_window_forgets_old_syncs():
    clock = FrozenClock(T0)
    detector = FlappingDetector(clock, max_syncs=2, window=timedelta(minutes=5))
    for _ in range(10):
        verdict = detector.record_sync("k")
        clock.advance(timedelta(minutes=3))
    assert not verdict.paused
    assert verdict.syncs_in_window == 2


def test_flapping_detector_from_flow_spec():
    detector = FlappingDetector.from_spec(Flapping(max_syncs=1, window_min=2), FrozenClock(T0))
    assert (detector.max_syncs, detector.window) == (1, timedelta(minutes=2))


def test_flapping_detector_rejects_nonsense_limits():
    with pytest.raises(ValueError, match="max_syncs"):
        FlappingDetector(FrozenClock(T0), max_syncs=0, window=timedelta(minutes=1))
