"""Grouping: a source read as groups, one record per group with its totals."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from syncloom.connectors.base import Record, RecordKey
from syncloom.engine.flows import Aggregate
from syncloom.engine.grouping import combine, group_id, group_values, is_group
from syncloom.errors import MappingError

SPEC = Aggregate(
    group_by=("Company", "Item"), sum=("Qty",), min=("Due",), max=("Days",), count="Rows"
)


def _row(n: int, **values: object) -> Record:
    stamp = datetime(2026, 1, n, tzinfo=UTC)
    return Record(RecordKey("erp", "Stock", str(n)), values, stamp)


def test_a_group_id_round_trips_values_holding_slashes():
    ident = group_id(SPEC, {"Company": "usmf", "Item": "A/B 1", "Qty": 3})
    assert is_group(ident)
    assert not is_group("usmf/A")
    assert group_values(SPEC, ident) == {"Company": "usmf", "Item": "A/B 1"}


def test_a_record_without_a_group_value_belongs_to_no_group():
    with pytest.raises(MappingError, match="Item"):
        group_id(SPEC, {"Company": "usmf", "Item": ""})


def test_combine_totals_and_picks_least_and_greatest():
    ident = group_id(SPEC, {"Company": "usmf", "Item": "A"})
    members = [
        _row(1, Qty=Decimal("1.5"), Due=datetime(2026, 3, 1, tzinfo=UTC), Days=0),
        _row(3, Qty=2, Due=datetime(2026, 2, 1, tzinfo=UTC), Days=4),
        _row(2, Qty=None, Due=None, Days=None),
    ]
    record = combine(SPEC, RecordKey("erp", "Stock", ident), members)
    assert record.values == {
        "Company": "usmf",
        "Item": "A",
        "Qty": Decimal("3.5"),
        "Due": datetime(2026, 2, 1, tzinfo=UTC),
        "Days": 4,
        "Rows": 3,
    }
    assert record.modified_on_utc == datetime(2026, 1, 3, tzinfo=UTC)


def test_a_total_of_text_is_a_mapping_error_naming_the_field():
    ident = group_id(SPEC, {"Company": "usmf", "Item": "A"})
    with pytest.raises(MappingError, match="Qty"):
        combine(SPEC, RecordKey("erp", "Stock", ident), [_row(1, Qty="lots")])
