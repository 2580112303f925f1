from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from syncloom.engine import transforms as t
from syncloom.engine.transforms import TransformTable
from syncloom.errors import ConfigError


def test_text_transforms_keep_none():
    assert t.upper("a") == "A"
    assert t.lower(None) is None
    assert t.trim("  x ") == "x"
    assert t.truncate("abcdef", 3) == "abc"


def test_default_and_coalesce_skip_empty_text():
    assert t.default("", "x") == "x"
    assert t.default("y", "x") == "y"
    assert t.coalesce(None, "", "z") == "z"


def test_concat_join_split_replace():
    assert t.concat("a", None, 1) == "a1"
    assert t.join(", ", "Main St", "", None, "Springfield") == "Main St, Springfield"
    assert t.split("a b c", " ", 2) == "c"
    assert t.split("a b", " ") == ["a", "b"]
    assert t.replace("a-b", "-", "") == "ab"


def test_numbers_round_half_up():
    assert t.round_to("2.345", 2) == Decimal("2.35")
    assert t.round_to(2.5) == Decimal(3)
    assert t.to_decimal(0.1) == Decimal("0.1")
    assert t.to_int("12.0") == 12
    with pytest.raises(ValueError, match="whole"):
        t.to_int("1.5")
    with pytest.raises(ValueError, match="not a number"):
        t.to_decimal("abc")


def test_dates_and_datetimes():
    assert t.parse_date("31.12.2025", "%d.%m.%Y") == date(2025, 12, 31)
    assert t.format_date("2025-12-31", "%d/%m/%Y") == "31/12/2025"
    assert t.parse_datetime("2025-01-01T10:00:00+02:00") == datetime(2025, 1, 1, 8, tzinfo=UTC)
    assert t.format_datetime("2025-01-01T10:00:00Z") == "2025-01-01T10:00:00+00:00"
    with pytest.raises(ValueError, match="time zone"):
        t.parse_datetime("2025-01-01T10:00:00")


def test_table_arity_from_signatures():
    table = TransformTable.builtins()
    assert table["truncate"].accepts(2)
    assert not table["truncate"].accepts(1)
    assert table["concat"].accepts(7)


def test_extended_table_refuses_clashes_and_bad_names():
    table = TransformTable.builtins()
    assert "vat" in table.extended({"vat": lambda v: f"DE{v}"})
    with pytest.raises(ConfigError, match="defined twice"):
        table.extended({"upper": str.upper})
    with pytest.raises(ConfigError, match="identifier"):
        table.extended({"__x": str.upper})
    with pytest.raises(ConfigError, match="callable"):
        table.extended({"x": 3})  # type: ignore[dict-item]


def test_entry_points_are_resolved_once_into_the_table(monkeypatch):
    from importlib.metadata import EntryPoint

    point = EntryPoint(name="shout", value="builtins:str", group=t.ENTRY_POINT_GROUP)
    monkeypatch.setattr(t, "entry_points", lambda group: [point] if group == point.group else [])
    table = TransformTable.load()
    assert table["shout"].function(5) == "5"
    broken = EntryPoint(name="gone", value="no_such_module_x:f", group=t.ENTRY_POINT_GROUP)
    monkeypatch.setattr(t, "entry_points", lambda group: [broken])
    with pytest.raises(ConfigError, match="'gone' cannot be loaded"):
        TransformTable.load()
