"""IntacctWebhookReceiver: Smart Event deliveries become the connector's own keys and instants."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from decimal import Decimal

import httpx
import pytest

from syncloom.connectors.base import Hint, RecordKey, WebhookReceiver
from syncloom.connectors.intacct import IntacctConnector, IntacctCredentials
from syncloom.connectors.intacct.webhooks import IntacctWebhookReceiver
from syncloom.engine.signatures import SignatureVerifier
from syncloom.errors import ValidationError
from syncloom.simulators.common.server import SimulatorServer
from syncloom.simulators.intacct.app import IntacctSimulator
from tests.connectors.capture import capturing

CREDS = IntacctCredentials("simsender", "simsenderpw", "SIMCO", "admin", "admin")
ZONE = "America/Los_Angeles"
SECRET = "intacct-hook-secret"
RECEIVER = IntacctWebhookReceiver(ZONE)


def test_receiver_satisfies_the_protocol():
    assert isinstance(RECEIVER, WebhookReceiver)


@pytest.mark.anyio
async def test_smart_events_name_the_records_the_connector_reads_in_utc():
    simulator = IntacctSimulator(records=5, timezone=ZONE)
    with SimulatorServer(simulator) as server, capturing() as target:
        registered = httpx.post(
            f"{server.base_url}/_sim/webhooks", json={"url": target.url, "secret": SECRET}
        )
        assert registered.status_code == 200
        erp = IntacctConnector(server.base_url, CREDS, company_tz=ZONE)
        try:
            customer = await erp.create("CUSTOMER", {"NAME": "Pushed Inc"}, key="HOOK-1")
            await erp.delete("CUSTOMER", "HOOK-1")
            invoice = await erp.create("ARINVOICE", _invoice())
        finally:
            await erp.aclose()
        deliveries = target.wait(3)
    hints = [RECEIVER.parse_hints(body, headers)[0] for headers, body in deliveries]
    assert [h.key for h in hints] == [customer.key, customer.key, invoice.key]
    assert [h.action for h in hints] == ["upsert", "delete", "upsert"]
    # The company's wall clock, read in its zone: the same instant a poll reports.
    assert hints[0].occurred_at_utc == customer.modified_on_utc
    assert hints[0].version == customer.modified_on_utc.isoformat()
    headers, body = deliveries[0]
    assert SignatureVerifier(SECRET).verify(headers, body, datetime.now(UTC))


def _invoice() -> dict[str, object]:
    return {
        "CUSTOMERID": "C00001",
        "WHENCREATED": date(2031, 1, 15),
        "lines": [{"ACCOUNTNO": "4000", "AMOUNT": Decimal("60.00")}],
    }


def test_a_list_of_notices_is_read_and_business_ids_win_over_record_numbers():
    body = json.dumps(
        [
            {"object": "customer", "recordno": "12", "id": "C-12", "action": "update"},
            {"object": "ARINVOICE", "recordno": "901", "id": "901", "action": "delete"},
            {"object": "UNKNOWNOBJ", "recordno": "5", "whenmodified": "07/01/2026 09:30:00"},
        ]
    ).encode()
    summer = datetime(2026, 7, 1, 16, 30, tzinfo=UTC)  # 09:30 in Los Angeles (PDT)
    assert RECEIVER.parse_hints(body, {}) == [
        Hint(RecordKey("intacct", "CUSTOMER", "C-12")),
        Hint(RecordKey("intacct", "ARINVOICE", "901"), action="delete"),
        Hint(RecordKey("intacct", "UNKNOWNOBJ", "5"), summer.isoformat(), "upsert", summer),
    ]


@pytest.mark.parametrize(
    ("body", "says"),
    [
        (b"<xml/>", "not JSON"),
        (b'"CUSTOMER"', "not an object"),
        (b'{"object": "CUSTOMER", "recordno": "12"}', "lacks object or key"),
        (b'{"recordno": "12", "id": "C-1"}', "lacks object or key"),
        (b'{"object": "CUSTOMER", "id": "C-1", "action": "merge"}', "not create, update or delete"),
        (b'{"object": "CUSTOMER", "id": "C-1", "whenmodified": "2026-07-01"}', "mm/dd/yyyy"),
    ],
)
def test_malformed_notices_are_refused_with_a_clear_text(body, says):
    with pytest.raises(ValidationError, match=says) as refused:
        RECEIVER.parse_hints(body, {})
    assert refused.value.system == "intacct"
