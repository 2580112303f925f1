from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal

import pytest

from syncloom.connectors.base import EntitySpec, FieldSpec, FieldType
from syncloom.connectors.creatio import queries
from syncloom.errors import ConfigError

GUID = "405947d0-2ffb-4ded-8675-0475f19f5a81"
SPEC = EntitySpec(
    "Contact",
    ("Id",),
    "ModifiedOn",
    (
        FieldSpec("Id", FieldType.GUID),
        FieldSpec("Name"),
        FieldSpec("AccountId", FieldType.LOOKUP, lookup_entity="Account"),
        FieldSpec("BirthDate", FieldType.DATE),
    ),
)


def test_literals_follow_creatio_rules():
    assert queries.literal("O'Brien") == "'O''Brien'"
    assert queries.literal(GUID.upper(), FieldType.GUID) == GUID
    assert queries.literal(datetime(2024, 1, 1, 2, tzinfo=timezone(timedelta(hours=2)))) == (
        "2024-01-01T00:00:00.0000000Z"
    )
    assert queries.literal(date(2024, 2, 29)) == "2024-02-29T00:00:00Z"
    assert queries.literal(True) == "true"
    assert queries.literal(None) == "null"
    assert queries.literal(Decimal("1.50")) == "1.50"


def test_lookups_are_filtered_through_navigation_paths():
    text = queries.equals_all(SPEC, {"AccountId": GUID, "Name": "Ann"})
    assert text == f"Account/Id eq {GUID} and Name eq 'Ann'"
    with pytest.raises(ConfigError):
        queries.equals_all(SPEC, {"Nope": 1})


def test_naive_datetimes_are_refused():
    with pytest.raises(ValueError, match="naive"):
        queries.literal(datetime(2024, 1, 1))  # noqa: DTZ001 - the point of the test


def test_cursor_round_trips_and_keeps_seven_digits():
    cursor = queries.encode_cursor("2024-09-16T07:46:44.5045174Z", GUID)
    assert queries.decode_cursor(cursor) == ("2024-09-16T07:46:44.5045174Z", GUID)
    clause = queries.keyset_filter(*queries.decode_cursor(cursor))
    assert clause == (
        "ModifiedOn gt 2024-09-16T07:46:44.5045174Z or "
        f"(ModifiedOn eq 2024-09-16T07:46:44.5045174Z and Id gt {GUID})"
    )
    assert queries.since_filter(datetime(2024, 1, 1, tzinfo=UTC)) == (
        "ModifiedOn ge 2024-01-01T00:00:00.0000000Z"
    )


@pytest.mark.parametrize("bad", ["", "garbage", "djF8eHx5"])
def test_foreign_cursors_are_config_errors(bad):
    with pytest.raises(ConfigError):
        queries.decode_cursor(bad)
