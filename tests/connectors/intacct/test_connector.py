"""Intacct quirks the shared contract cannot know: sessions, entities, time zones, documents."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime
from decimal import Decimal

import httpx
import pytest

from syncloom.connectors.base import Op, OpKind
from syncloom.connectors.intacct import IntacctConnector, IntacctCredentials
from syncloom.errors import AlreadyExistsError, AuthError, ConfigError
from syncloom.simulators.common.server import SimulatorServer
from syncloom.simulators.intacct.app import IntacctSimulator
from syncloom.testing.harness import SimulatorHandle

pytestmark = pytest.mark.anyio
CREDS = IntacctCredentials("simsender", "simsenderpw", "SIMCO", "admin", "admin")
ZONE = "America/Los_Angeles"


@pytest.fixture(scope="module")
def sim() -> Iterator[SimulatorHandle]:
    with SimulatorServer(IntacctSimulator(records=10, timezone=ZONE)) as server:
        yield SimulatorHandle(server.base_url)


def connect(sim: SimulatorHandle, **kw: object) -> IntacctConnector:
    return IntacctConnector(sim.base_url, CREDS, company_tz=ZONE, **kw)  # type: ignore[arg-type]


async def test_session_is_reused_and_renewed_after_expiry(sim: SimulatorHandle) -> None:
    conn = connect(sim)
    before = sim.stats()["sessions"]
    assert await conn.get("CUSTOMER", "C00001") is not None
    assert await conn.get("CUSTOMER", "C00002") is not None
    assert sim.stats()["sessions"] == before + 1
    httpx.post(sim.base_url + "/_sim/sessions/expire")
    assert await conn.get("CUSTOMER", "C00003") is not None  # re-login, no error
    await conn.aclose()


async def test_wrong_password_is_auth_error_without_secrets(sim: SimulatorHandle) -> None:
    creds = IntacctCredentials("simsender", "simsenderpw", "SIMCO", "admin", "hunter2-secret")
    conn = IntacctConnector(sim.base_url, creds)
    with pytest.raises(AuthError) as caught:
        await conn.get("CUSTOMER", "C00001")
    assert caught.value.vendor_code == "XL03000006"
    assert "hunter2" not in str(caught.value)
    assert "hunter2" not in repr(conn)
    assert "simsenderpw" not in repr(creds)
    await conn.aclose()


async def test_company_time_zone_is_made_explicit(sim: SimulatorHandle) -> None:
    moment = datetime(2031, 7, 1, 18, 30, 5, tzinfo=UTC)  # 11:30:05 in Los Angeles (PDT)
    sim.freeze_clock(moment)
    conn = connect(sim)
    try:
        record = await conn.create("CUSTOMER", {"NAME": "Zoned"}, key="TZ-1")
    finally:
        sim.freeze_clock(None)
    assert record.modified_on_utc == moment
    assert record.version == "07/01/2031 11:30:05"
    page = await conn.read_changes("CUSTOMER", moment, None)
    assert [r.key.id for r in page.records] == ["TZ-1"]
    await conn.aclose()


async def test_entity_per_connection_scopes_visibility(sim: SimulatorHandle) -> None:
    e100, e200 = connect(sim, entity_id="E100"), connect(sim).for_entity("E200")
    made = await e100.create("CUSTOMER", {"NAME": "Private to E100"}, key="ENT-1")
    assert made.values["MEGAENTITYID"] == "E100"
    assert await e200.get("CUSTOMER", "ENT-1") is None
    assert await e100.get("CUSTOMER", "ENT-1") is not None
    await e100.aclose()
    await e200.aclose()


async def test_batch_of_250_creates_goes_100_per_call(sim: SimulatorHandle) -> None:
    conn = connect(sim)
    await conn.get("CUSTOMER", "C00001")
    calls = sim.stats()["total_requests"]
    ops = [Op(OpKind.CREATE, "CLASS", f"B-{n}", {"NAME": f"Class {n}"}) for n in range(250)]
    results = await conn.batch(ops)
    assert all(r.ok for r in results)
    assert results[249].record is not None
    assert results[249].record.key.id == "B-249"
    assert sim.stats()["total_requests"] - calls == 3
    await conn.aclose()


async def test_invoice_and_payment_in_another_currency(sim: SimulatorHandle) -> None:
    conn = connect(sim)
    invoice = await conn.create(
        "ARINVOICE",
        {
            "CUSTOMERID": "C00001",
            "WHENCREATED": date(2031, 1, 15),
            "CURRENCY": "EUR",
            "BASECURR": "USD",
            "EXCHANGE_RATE": Decimal("1.10"),
            "lines": [
                {"ACCOUNTNO": "4000", "AMOUNT": Decimal("60.00"), "DEPARTMENTID": "SALES"},
                {"ACCOUNTNO": "4000", "AMOUNT": Decimal("40.00"), "LOCATIONID": "E100"},
            ],
        },
    )
    assert invoice.values["TRX_TOTALDUE"] == Decimal("100.00")
    assert invoice.values["TOTALDUE"] == Decimal("110.00")
    assert invoice.values["CURRENCY"] == "EUR"
    await conn.create(
        "ARPYMT",
        {
            "CUSTOMERID": "C00001",
            "PAYMENTMETHOD": "Cash",
            "TRX_TOTALENTERED": Decimal("30.00"),
            "CURRENCY": "EUR",
            "RECEIPTDATE": date(2031, 2, 1),
            "lines": [{"RECORDKEY": invoice.key.id, "AMOUNT": Decimal("30.00")}],
        },
    )
    paid = await conn.get("ARINVOICE", invoice.key.id)
    assert paid is not None
    assert paid.values["TRX_TOTALDUE"] == Decimal("70.00")
    assert paid.values["STATE"] == "Partially Paid"
    await conn.aclose()


async def test_sales_order_key_is_chosen_and_not_duplicated(sim: SimulatorHandle) -> None:
    conn = connect(sim)
    values = {
        "CUSTVENDID": "C00002",
        "DOCPARID": "Sales Order",
        "lines": [{"ITEMID": "P00001", "QUANTITY": Decimal("3"), "PRICE": Decimal("9.50")}],
    }
    order = await conn.create("SODOCUMENT", values, key="Sales Order-SYNC-42")
    assert order.key.id == "Sales Order-SYNC-42"
    assert order.values["TRX_TOTAL"] == Decimal("28.50")
    with pytest.raises(AlreadyExistsError):
        await conn.create("SODOCUMENT", values, key="Sales Order-SYNC-42")
    await conn.aclose()


def test_from_config_requires_credentials() -> None:
    with pytest.raises(ConfigError):
        IntacctConnector.from_config({"base_url": "http://127.0.0.1:1"})
    conn = IntacctConnector.from_config(
        {
            "base_url": "https://api.intacct.com",
            "entity_id": "E200",
            "credentials": {
                "sender_id": "s",
                "sender_password": "sp",
                "company_id": "c",
                "user_id": "u",
                "user_password": "up",
            },
        }
    )
    assert conn.entity_id == "E200"
    assert conn.client.url.endswith("/ia/xml/xmlgw.phtml")


async def test_invoice_retried_with_its_external_id_is_not_written_twice(
    sim: SimulatorHandle,
) -> None:
    conn = connect(sim)
    values = {
        "CUSTOMERID": "C00001",
        "WHENCREATED": date(2031, 3, 1),
        "EXTERNALID": "opp-7f1e0c2a",
        "lines": [{"ACCOUNTNO": "4000", "AMOUNT": Decimal("25.00")}],
    }
    first = await conn.create("ARINVOICE", values)
    with pytest.raises(AlreadyExistsError) as caught:
        await conn.create("ARINVOICE", values)
    assert caught.value.key == first.key.id
    found = await conn.search("ARINVOICE", {"EXTERNALID": "opp-7f1e0c2a"})
    assert [r.key for r in found] == [first.key]
    await conn.aclose()
