from __future__ import annotations

import hashlib
import hmac
import json
from datetime import UTC, datetime

import pytest

from syncloom.connectors.d365 import parse_business_event, verify_signature
from syncloom.errors import ValidationError

INVOICED = {
    "BusinessEventId": "SalesOrderInvoicedBusinessEvent",
    "BusinessEventLegalEntity": "USMF",
    "ControlNumber": 5637611083,
    "EventId": "3C47A4CD-6EDC-4319-B893-3F862EED65FD",
    "EventTime": "/Date(1672408275000)/",
    "EventTimeIso8601": "2022-12-30T13:51:15.2942742Z",
    "InvoiceNumber": "INV/0001",
    "SalesOrderNumber": "SO-1",
}


def test_invoiced_event_hints_at_invoice_order_and_open_transaction():
    hints = parse_business_event(json.dumps(INVOICED).encode())
    assert [str(h.key) for h in hints] == [
        "d365:SalesInvoiceHeadersV2:usmf/INV%2F0001",
        "d365:SalesOrderHeadersV2:usmf/SO-1",
        "d365:CustomerOpenTransactions:usmf/INV%2F0001",
    ]
    assert hints[0].occurred_at == datetime(2022, 12, 30, 13, 51, 15, 294274, tzinfo=UTC)
    assert hints[0].event == "invoiced"
    assert hints[0].control_number == 5637611083


def test_ms_date_is_used_when_the_iso_time_is_missing():
    body = {**INVOICED, "EventTimeIso8601": ""}
    [first, *_] = parse_business_event(json.dumps(body).encode())
    assert first.occurred_at == datetime(2022, 12, 30, 13, 51, 15, tzinfo=UTC)


def test_unknown_events_give_no_hints_and_garbage_is_refused():
    assert parse_business_event(json.dumps({**INVOICED, "BusinessEventId": "Other"}).encode()) == []
    for bad in (b"not json", b"[]", b'{"EventTime": "x"}'):
        with pytest.raises(ValidationError):
            parse_business_event(bad)


def test_signature_is_checked_in_constant_time_form():
    body = b'{"a":1}'
    good = "sha256=" + hmac.new(b"k", body, hashlib.sha256).hexdigest()
    assert verify_signature("k", body, good)
    assert not verify_signature("k", body + b" ", good)
    assert not verify_signature("other", body, good)
    assert not verify_signature("k", body, None)
