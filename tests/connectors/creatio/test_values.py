from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from syncloom.connectors.base import FieldType
from syncloom.connectors.creatio.values import from_wire, parse_instant, to_wire
from syncloom.errors import MappingError

ZERO = "00000000-0000-0000-0000-000000000000"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2022-12-02T08:52:59Z", datetime(2022, 12, 2, 8, 52, 59, tzinfo=UTC)),
        ("2023-08-07T18:36:28.92Z", datetime(2023, 8, 7, 18, 36, 28, 920000, tzinfo=UTC)),
        ("2024-09-16T07:46:44.5045174Z", datetime(2024, 9, 16, 7, 46, 44, 504517, tzinfo=UTC)),
        ("2024-09-16T09:46:44+02:00", datetime(2024, 9, 16, 7, 46, 44, tzinfo=UTC)),
        ("0001-01-01T00:00:00Z", None),
    ],
)
def test_instants_with_zero_to_seven_digits(text, expected):
    assert parse_instant(text) == expected


def test_bad_instant_is_a_mapping_error():
    with pytest.raises(MappingError):
        parse_instant("yesterday")


def test_wire_values_become_python_values():
    assert from_wire(FieldType.LOOKUP, ZERO) is None
    assert from_wire(FieldType.GUID, "ABC") == "abc"
    assert from_wire(FieldType.DATE, "1980-01-05T00:00:00Z") == date(1980, 1, 5)
    assert from_wire(FieldType.DATETIME, "0001-01-01T00:00:00Z") is None
    assert from_wire(FieldType.DECIMAL, "12.50") == Decimal("12.50")
    assert from_wire(FieldType.DECIMAL, 3) == Decimal(3)
    assert from_wire(FieldType.BOOLEAN, "true") is True
    assert from_wire(FieldType.INTEGER, 7) == 7


def test_python_values_become_wire_values():
    assert to_wire(FieldType.LOOKUP, None) == ZERO
    assert to_wire(FieldType.DATE, None) == "0001-01-01T00:00:00Z"
    assert to_wire(FieldType.STRING, None) == ""
    assert to_wire(FieldType.DATE, date(2024, 1, 2)) == "2024-01-02T00:00:00Z"
    assert to_wire(FieldType.DECIMAL, Decimal("0.10")) == "0.10"
    assert to_wire(None, datetime(2024, 1, 1, tzinfo=UTC)) == "2024-01-01T00:00:00.0000000Z"
