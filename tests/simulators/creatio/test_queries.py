from __future__ import annotations

import pytest

from syncloom.simulators.creatio.entities import EMPTY_GUID, ENTITIES
from syncloom.simulators.creatio.queries import (
    ODataError,
    order_rows,
    parse_expand,
    parse_filter,
    parse_orderby,
    parse_select,
)

CONTACT = ENTITIES["Contact"]
ACME = "405947d0-2ffb-4ded-8675-0475f19f5a81"
ACCOUNTS = {ACME: {"Id": ACME, "Name": "Acme", "Code": "HCA1"}}
ROWS = [
    {
        "Id": "1" * 8 + "-0000-0000-0000-000000000001",
        "Name": "Ann O'Neil",
        "AccountId": ACME,
        "Email": "ann@x.com",
        "DoNotUseEmail": True,
        "ModifiedOn": "2024-01-02T00:00:00.0000000Z",
    },
    {
        "Id": "2" * 8 + "-0000-0000-0000-000000000002",
        "Name": "Bob",
        "AccountId": EMPTY_GUID,
        "Email": "",
        "DoNotUseEmail": False,
        "ModifiedOn": "2024-01-01T00:00:00.0000000Z",
    },
]


def fetch(entity, key):
    return ACCOUNTS.get(key) if entity == "Account" else None


def names(expression):
    predicate = parse_filter(CONTACT, expression)
    return [r["Name"] for r in ROWS if predicate(r, fetch)]


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ("Name eq 'Ann O''Neil'", ["Ann O'Neil"]),
        (f"Account/Id eq {ACME}", ["Ann O'Neil"]),
        ("Account/Name eq 'Acme'", ["Ann O'Neil"]),
        ("startswith(Account/Code,'HCA')", ["Ann O'Neil"]),
        ("Account/Id eq null", ["Bob"]),
        ("Email eq null", ["Bob"]),
        ("not (Email eq null)", ["Ann O'Neil"]),
        ("DoNotUseEmail", ["Ann O'Neil"]),
        ("DoNotUseEmail eq false", ["Bob"]),
        ("ModifiedOn gt 2024-01-01T12:00:00+02:00", ["Ann O'Neil"]),
        ("ModifiedOn ge 2024-01-01T00:00:00Z", ["Ann O'Neil", "Bob"]),
        ("Name eq 'Bob' or Name eq 'Ann O''Neil' and Email eq ''", ["Bob"]),
        ("(Name eq 'Bob' or Name eq 'Ann O''Neil') and contains(Email,'@')", ["Ann O'Neil"]),
        ("endswith(Name,'ob')", ["Bob"]),
    ],
)
def test_filters_select_the_right_rows(expression, expected):
    assert names(expression) == expected


@pytest.mark.parametrize(
    ("expression", "status"),
    [
        ("Name eq", 400),
        ("Name eq 'x' and", 400),
        ("Name eq 'x')", 400),
        ("Nav/Id eq null", 400),
        ("Account/Nope eq 1", 400),
        ("Name gt 3", 400),
        ("Email eq 1.5", 400),
        ("ModifiedOn gt 2024-13-45T00:00:00Z", 400),
        ("@@", 400),
        ("OwnerId eq null", 500),
    ],
)
def test_bad_filters_raise_creatio_errors(expression, status):
    with pytest.raises(ODataError) as caught:
        parse_filter(CONTACT, expression)
    assert caught.value.status == status


def test_orderby_several_keys_and_nulls_first():
    rows = [dict(r) for r in ROWS]
    keys = parse_orderby(CONTACT, "DoNotUseEmail desc, Name asc")
    assert [r["Name"] for r in order_rows(rows, keys, fetch)] == ["Ann O'Neil", "Bob"]
    keys = parse_orderby(CONTACT, "Account/Name")
    assert [r["Name"] for r in order_rows(rows, keys, fetch)] == ["Bob", "Ann O'Neil"]
    with pytest.raises(ODataError):
        parse_orderby(CONTACT, "Name sideways")


def test_select_and_expand_validate_names():
    assert parse_select(CONTACT, "Id, Name") == ["Id", "Name"]
    with pytest.raises(ODataError) as caught:
        parse_select(CONTACT, "ContactPhoto")
    assert caught.value.status == 500
    [(nav, nested)] = parse_expand(CONTACT, "Account($select=Name,Code)")
    assert (nav.name, nested) == ("Account", ["Name", "Code"])
    with pytest.raises(ODataError):
        parse_expand(CONTACT, "Account($filter=Name eq 'x')")
