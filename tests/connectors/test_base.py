from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from syncloom.connectors.base import (
    EntitySpec,
    FieldSpec,
    Op,
    OpKind,
    OpResult,
    RecordKey,
    ensure_utc,
)
from syncloom.errors import ValidationError


def test_record_key_round_trips_with_colons_in_the_id():
    key = RecordKey("d365", "CustomersV3", "usmf/C:1")
    assert str(key) == "d365:CustomersV3:usmf/C:1"
    assert RecordKey.parse(str(key)) == key


@pytest.mark.parametrize("text", ["", "creatio", "creatio:Account", "creatio::x", ":A:x"])
def test_record_key_refuses_partial_text(text):
    with pytest.raises(ValueError, match="not a record key"):
        RecordKey.parse(text)


def test_ensure_utc_converts_and_refuses_naive():
    berlin = timezone(timedelta(hours=1))
    assert ensure_utc(datetime(2026, 1, 1, 13, tzinfo=berlin)) == datetime(
        2026, 1, 1, 12, tzinfo=UTC
    )
    with pytest.raises(ValueError, match="naive"):
        ensure_utc(datetime(2026, 1, 1, 12))  # noqa: DTZ001


def test_entity_spec_finds_fields_and_op_results_report_failure():
    spec = EntitySpec("Account", ("Id",), "ModifiedOn", (FieldSpec("Name", required=True),))
    assert spec.field("Name") is not None
    assert spec.field("Nope") is None
    op = Op(OpKind.CREATE, "Account", "k", {"Name": ""})
    assert not OpResult(op, error=ValidationError("Name is required", field="Name")).ok
    assert OpResult(op).ok
