from __future__ import annotations

import pytest

from syncloom.connectors.d365.dimensions import format_display_value, parse_display_value
from syncloom.errors import MappingError

ORDER = ("BusinessUnit", "Department", "CostCenter")


def test_blank_segments_keep_their_delimiter_and_round_trip():
    text = format_display_value({"Department": "SALES", "CostCenter": "CC100"}, ORDER)
    assert text == "-SALES-CC100"
    assert parse_display_value(text, ORDER) == {"Department": "SALES", "CostCenter": "CC100"}


def test_ledger_strings_start_with_the_main_account():
    text = format_display_value({"BusinessUnit": "001"}, ORDER, main_account="110180")
    assert text == "110180-001--"
    assert parse_display_value(text, ORDER, ledger=True) == {
        "MainAccount": "110180",
        "BusinessUnit": "001",
    }


def test_ambiguous_or_unknown_segments_are_mapping_errors():
    with pytest.raises(MappingError):
        format_display_value({"Department": "A-B"}, ORDER)
    with pytest.raises(MappingError):
        format_display_value({"Region": "X"}, ORDER)
    with pytest.raises(MappingError):
        parse_display_value("a-b", ORDER)
