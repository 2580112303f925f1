from __future__ import annotations

from decimal import Decimal

import pytest

from syncloom.connectors.d365.entities import ENTITIES
from syncloom.connectors.d365.keys import make_id, parse_id, segment
from syncloom.errors import ValidationError


def test_ids_round_trip_with_escapes_and_lower_case_company():
    customers = ENTITIES["CustomersV3"]
    ident = make_id(customers, {"dataAreaId": "USMF", "CustomerAccount": "A/B%C"})
    assert ident == "usmf/A%2FB%25C"
    assert parse_id(customers, ident) == {"dataAreaId": "usmf", "CustomerAccount": "A/B%C"}


def test_segments_quote_strings_and_leave_numbers_bare():
    lines = ENTITIES["CustomerPaymentJournalLines"]
    ident = make_id(lines, {"dataAreaId": "usmf", "JournalBatchNumber": "JB'1", "LineNumber": 2.0})
    assert ident == "usmf/JB'1/2"
    assert parse_id(lines, ident)["LineNumber"] == Decimal(2)
    assert segment(lines, ident) == (
        "CustomerPaymentJournalLines(dataAreaId='usmf',JournalBatchNumber='JB''1',LineNumber=2)"
    )
    assert segment(ENTITIES["CustomersV3"], "usmf/A B#") == (
        "CustomersV3(dataAreaId='usmf',CustomerAccount='A%20B%23')"
    )


@pytest.mark.parametrize("bad", ["usmf", "usmf/C1/extra", "/C1", "usmf/"])
def test_ids_with_the_wrong_shape_are_refused(bad):
    with pytest.raises(ValidationError):
        parse_id(ENTITIES["CustomersV3"], bad)
