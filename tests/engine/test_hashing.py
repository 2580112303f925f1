from __future__ import annotations

import hashlib
import json
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from syncloom.engine.hashing import (
    canonical_value,
    canonical_values,
    comparable,
    hash_values,
    same_value,
)

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.text(max_size=20),
    st.decimals(allow_nan=False, allow_infinity=False, places=4),
    st.dates(),
)
value_maps = st.dictionaries(st.text(min_size=1, max_size=8), scalars, max_size=8)


def test_decimal_spellings_and_key_order_hash_alike():
    assert hash_values({"a": Decimal("1.0"), "b": 2}) == hash_values(
        {"b": 2.0, "a": Decimal("1.00")}
    )
    assert hash_values({"a": Decimal("100")}) == hash_values({"a": Decimal("1E+2")})


def test_none_and_missing_hash_alike_but_empty_text_does_not():
    assert hash_values({"a": 1, "b": None}) == hash_values({"a": 1})
    assert hash_values({"a": 1, "b": ""}) != hash_values({"a": 1})


def test_kinds_do_not_collide():
    assert canonical_value(True) != canonical_value(1)
    assert canonical_value("n:1") != canonical_value(1)
    assert hash_values({"a": "1"}) != hash_values({"a": 1})


def test_datetimes_hash_by_instant():
    berlin = timezone(timedelta(hours=1))
    assert hash_values({"t": datetime(2025, 1, 1, 13, tzinfo=berlin)}) == hash_values(
        {"t": datetime(2025, 1, 1, 12, tzinfo=UTC)}
    )
    assert canonical_value(date(2025, 1, 1)) == "d:2025-01-01"


def test_lines_and_nested_mappings_are_canonical():
    left = {"lines": [{"qty": Decimal("1.0"), "sku": "A"}]}
    right = {"lines": [{"sku": "A", "qty": 1, "note": None}]}
    assert hash_values(left) == hash_values(right)


def test_comparable_is_looser_for_noop_checks():
    assert same_value("12.50", Decimal("12.5"))
    assert same_value(12.5, "12.5")
    assert same_value("", None)
    assert same_value(" Acme ", "Acme")
    assert same_value("2025-01-02", date(2025, 1, 2))
    assert same_value("2025-01-02T10:00:00Z", datetime(2025, 1, 2, 10, tzinfo=UTC))
    assert not same_value("Acme", "ACME")
    assert not same_value("1", "2")
    assert comparable({"a": "", "b": "1.0"}) == comparable({"b": 1})


@given(value_maps)
def test_hash_is_stable_across_insertion_order(values):
    reordered = dict(reversed(list(values.items())))
    assert hash_values(values) == hash_values(reordered)


@given(value_maps, st.text(min_size=1, max_size=8))
def test_adding_a_none_field_never_changes_the_hash(values, name):
    extended = {**values, name: None}
    without = {k: v for k, v in extended.items() if v is not None}
    assert hash_values(extended) == hash_values(without)


@given(st.decimals(allow_nan=False, allow_infinity=False), st.integers(0, 5))
def test_trailing_zeros_never_change_the_hash(number, zeros):
    padded = Decimal(f"{number:f}{'' if '.' in f'{number:f}' else '.'}{'0' * zeros}")
    assert hash_values({"n": number}) == hash_values({"n": padded})


def test_hash_is_sha256_of_the_sorted_compact_json_of_the_canonical_form():
    # Stored hashes (links, the write ledger) must keep matching: pin the exact derivation.
    values = {
        "b": "text",
        "a": Decimal("1.50"),
        "n": None,
        "t": True,
        "d": {"z": 1, "y": ["x", 2.0]},
        "when": datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC),
    }
    canonical = canonical_values(values)
    text = json.dumps(canonical, sort_keys=True, separators=(",", ":"))
    assert hash_values(values) == hashlib.sha256(text.encode()).hexdigest()
    assert canonical["b"] == "s:text"
    assert canonical["d"] == {"y": ["s:x", "n:2"], "z": "n:1"}


@given(st.integers(min_value=-(10**40), max_value=10**40))
def test_an_integer_has_the_canonical_form_of_its_decimal(number):
    assert canonical_value(number) == canonical_value(Decimal(number))
