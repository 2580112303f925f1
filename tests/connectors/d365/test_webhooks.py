"""D365WebhookReceiver: business events from the simulator become the connector's own keys."""

from __future__ import annotations

import json
import ssl
from datetime import UTC, datetime

import httpx
import pytest

from syncloom.connectors.base import Hint, RecordKey, WebhookReceiver
from syncloom.connectors.d365.webhooks import D365WebhookReceiver
from syncloom.engine.signatures import SignatureVerifier
from syncloom.errors import ValidationError
from tests.connectors.capture import capturing
from tests.connectors.d365.support import connect, running_d365

SECRET = "d365-hook-secret"
RECEIVER = D365WebhookReceiver()


def test_receiver_satisfies_the_protocol():
    assert isinstance(RECEIVER, WebhookReceiver)


@pytest.mark.anyio
async def test_customer_event_names_the_record_the_connector_reads():
    with running_d365() as sim, capturing() as target:
        registered = httpx.post(
            f"{sim.base_url}/_sim/business-events",
            json={"url": target.url, "secret": SECRET},
            verify=ssl.create_default_context(cafile=str(sim.verify)),
        )
        assert registered.status_code == 201
        erp = connect(sim)
        try:
            created = await erp.create("CustomersV3", {"CustomerGroupId": "10"}, "usmf/HOOK-1")
        finally:
            await erp.aclose()
        [(headers, body)] = target.wait(1)
    [hint] = RECEIVER.parse_hints(body, headers)
    assert hint.key == created.key
    assert hint.action == "upsert"
    assert hint.version is None  # the event's time is not the record's version
    assert hint.occurred_at_utc is not None
    assert SignatureVerifier(SECRET).verify(headers, body, datetime.now(UTC))


def test_invoiced_event_hints_at_each_record_it_touches():
    event = {
        "BusinessEventId": "SalesOrderInvoicedBusinessEvent",
        "BusinessEventLegalEntity": "USMF",
        "EventTimeIso8601": "2022-12-30T13:51:15.2942742Z",
        "InvoiceNumber": "INV-1",
        "SalesOrderNumber": "SO-1",
    }
    moment = datetime(2022, 12, 30, 13, 51, 15, 294274, tzinfo=UTC)
    assert RECEIVER.parse_hints(json.dumps(event).encode(), {}) == [
        Hint(RecordKey("d365", entity, f"usmf/{ident}"), None, "upsert", moment)
        for entity, ident in (
            ("SalesInvoiceHeadersV2", "INV-1"),
            ("SalesOrderHeadersV2", "SO-1"),
            ("CustomerOpenTransactions", "INV-1"),
        )
    ]


@pytest.mark.parametrize("body", [b"not json", b"[]", b'{"EventTime": "x"}'])
def test_malformed_events_are_refused(body):
    with pytest.raises(ValidationError) as refused:
        RECEIVER.parse_hints(body, {})
    assert refused.value.system == "d365"
