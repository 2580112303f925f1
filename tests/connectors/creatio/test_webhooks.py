"""CreatioWebhookReceiver: the simulator's real deliveries become the connector's own keys."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import httpx
import pytest

from syncloom.connectors.base import Hint, RecordKey, WebhookReceiver
from syncloom.connectors.creatio import CreatioConnector
from syncloom.connectors.creatio.webhooks import CreatioWebhookReceiver
from syncloom.engine.signatures import SignatureVerifier
from syncloom.errors import ValidationError
from tests.connectors.capture import capturing
from tests.connectors.creatio.conftest import running_creatio

SECRET = "creatio-hook-secret"
RECEIVER = CreatioWebhookReceiver()


def test_receiver_satisfies_the_protocol():
    assert isinstance(RECEIVER, WebhookReceiver)


@pytest.mark.anyio
async def test_simulator_delivery_names_the_record_the_connector_reads():
    with running_creatio() as sim, capturing() as target:
        registered = httpx.post(
            f"{sim.base_url}/_sim/webhooks", json={"url": target.url, "secret": SECRET}
        )
        assert registered.status_code == 201
        crm = CreatioConnector(sim.base_url, username="Supervisor", password="Supervisor")
        try:
            created = await crm.create("Account", {"Name": "Pushed Ltd"})
            updated = await crm.update("Account", created.key.id, {"Name": "Pushed Again"})
            await crm.delete("Account", created.key.id)
        finally:
            await crm.aclose()
        deliveries = target.wait(3)
    hints = [RECEIVER.parse_hints(body, headers)[0] for headers, body in deliveries]
    assert [h.key for h in hints] == [created.key] * 3
    assert [h.action for h in hints] == ["upsert", "upsert", "delete"]
    # Same text as a poll of that version, so a webhook and a poll make the same job.
    assert hints[0].version == created.modified_on_utc.isoformat()
    assert hints[1].version == updated.modified_on_utc.isoformat()
    assert hints[1].occurred_at_utc == updated.modified_on_utc
    headers, body = deliveries[0]
    now = datetime.now(UTC)
    assert SignatureVerifier(SECRET).verify(headers, body, now)


def test_a_list_of_notices_and_upper_case_ids_are_read():
    body = json.dumps(
        [
            {"entity": "Account", "id": "0B1E0000-0000-4000-8000-000000000001"},
            {"entity": "Contact", "id": "c2", "action": "insert", "modifiedOn": ""},
        ]
    ).encode()
    assert RECEIVER.parse_hints(body, {}) == [
        Hint(RecordKey("creatio", "Account", "0b1e0000-0000-4000-8000-000000000001")),
        Hint(RecordKey("creatio", "Contact", "c2")),
    ]


@pytest.mark.parametrize(
    ("body", "says"),
    [
        (b"\xff\xfe", "not JSON"),
        (b"[1]", "not an object"),
        (b'{"entity": "Account"}', "lacks entity or id"),
        (b'{"entity": "Account", "id": 7}', "lacks entity or id"),
        (b'{"entity": "Account", "id": "a", "action": "merge"}', "not insert, update or delete"),
        (b'{"entity": "Account", "id": "a", "modifiedOn": "yesterday"}', "not a date-time"),
    ],
)
def test_malformed_notices_are_refused_with_a_clear_text(body, says):
    with pytest.raises(ValidationError, match=says) as refused:
        RECEIVER.parse_hints(body, {})
    assert refused.value.system == "creatio"
