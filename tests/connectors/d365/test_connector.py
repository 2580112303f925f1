"""D365 quirks the shared contract cannot know, against the simulator over TLS."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from decimal import Decimal

import httpx
import pytest

from syncloom.connectors.base import Op, OpKind
from syncloom.connectors.d365 import D365Connector
from syncloom.errors import (
    AuthError,
    NotFoundError,
    StaleVersionError,
    ThrottledError,
    ValidationError,
)
from syncloom.testing import SimulatorHandle
from tests.connectors.d365.support import connect, running_d365

pytestmark = pytest.mark.anyio


@pytest.fixture(scope="module")
def sim() -> Iterator[SimulatorHandle]:
    with running_d365() as handle:
        yield handle


@pytest.fixture
async def erp(sim: SimulatorHandle):
    sim.clear_faults()
    conn = connect(sim)
    yield conn
    await conn.aclose()


async def test_composite_keys_escape_quotes_and_slashes(erp):
    created = await erp.create(
        "CustomersV3",
        {"OrganizationName": "O'Brien & Sons", "CustomerGroupId": "10"},
        "usmf/O'B%2F1%25",
    )
    assert created.key.id == "usmf/O'B%2F1%25"
    read = await erp.get("CustomersV3", created.key.id)
    assert read is not None
    assert read.values["CustomerAccount"] == "O'B/1%"
    assert read.values["OrganizationName"] == "O'Brien & Sons"


async def test_legal_entity_comes_from_the_key_not_the_default_company(erp):
    created = await erp.create("CustomersV3", {"CustomerGroupId": "20"}, "DEMF/DE-1")
    assert created.key.id == "demf/DE-1"
    assert (await erp.get("CustomersV3", "demf/DE-1")) is not None
    assert (await erp.get("CustomersV3", "usmf/DE-1")) is None
    both = await erp.search("CustomersV3", {"CustomerGroupId": "20"}, limit=500)
    assert {r.values["dataAreaId"] for r in both} == {"usmf", "demf"}


async def test_values_become_python_types(erp):
    record = await erp.get("CustomersV3", "usmf/C00002")
    assert record is not None
    assert isinstance(record.values["CreditLimit"], Decimal)
    assert record.values["IsOneTimeCustomer"] is False
    assert record.modified_on_utc.tzinfo is not None
    assert record.version is not None
    assert record.version.startswith('W/"')


async def test_stale_etag_on_update_is_a_stale_version_error(erp):
    created = await erp.create("CustomersV3", {"CustomerGroupId": "10"}, "usmf/ETAG-1")
    await erp.update("CustomersV3", "usmf/ETAG-1", {"OrganizationName": "first"})
    with pytest.raises(StaleVersionError) as caught:
        await erp.update("CustomersV3", "usmf/ETAG-1", {"OrganizationName": "x"}, created.version)
    assert caught.value.status == 412
    fresh = await erp.get("CustomersV3", "usmf/ETAG-1")
    done = await erp.update("CustomersV3", "usmf/ETAG-1", {"OrganizationName": "ok"}, fresh.version)
    assert done.values["OrganizationName"] == "ok"


async def test_iter_keys_follows_next_links_across_server_pages(sim, erp):
    httpx.post(f"{sim.base_url}/_sim/config", json={"page_size": 3}, verify=sim.verify)
    try:
        pages = [page async for page in erp.iter_keys("CustomersV3", page_size=4)]
    finally:
        httpx.post(f"{sim.base_url}/_sim/config", json={"page_size": 10000}, verify=sim.verify)
    keys = [k for page in pages for k in page]
    assert len(keys) == len(set(keys)) >= 20
    assert all(len(page) == 4 for page in pages[:-1])


async def test_batch_mixes_creates_updates_and_deletes_with_own_results(erp):
    await erp.create("CustomersV3", {"CustomerGroupId": "10"}, "usmf/BT-UPD")
    await erp.create("CustomersV3", {"CustomerGroupId": "10"}, "usmf/BT-DEL")
    results = await erp.batch(
        [
            Op(OpKind.CREATE, "CustomersV3", "usmf/BT-NEW", {"CustomerGroupId": "10"}),
            Op(OpKind.UPDATE, "CustomersV3", "usmf/BT-UPD", {"OrganizationName": "Batched"}),
            Op(OpKind.DELETE, "CustomersV3", "usmf/BT-DEL"),
            Op(OpKind.UPDATE, "CustomersV3", "usmf/BT-NONE", {"OrganizationName": "x"}),
            Op(OpKind.CREATE, "CustomersV3", "usmf/BT-NEW", {"CustomerGroupId": "10"}),
            Op(OpKind.UPDATE, "CustomersV3", "bad key", {}),
        ]
    )
    assert [r.ok for r in results] == [True, True, True, False, False, False]
    assert results[1].record.values["OrganizationName"] == "Batched"
    assert isinstance(results[3].error, NotFoundError)
    assert type(results[4].error).__name__ == "AlreadyExistsError"
    assert "already exists" in results[4].error.vendor_message
    assert isinstance(results[5].error, ValidationError)
    assert await erp.get("CustomersV3", "usmf/BT-DEL") is None


async def test_throttled_batch_reports_throttled_error_per_op(sim, erp):
    await erp.get("CustomersV3", "usmf/C00002")
    sim.set_faults(retry_after_s=11)
    sim.script_faults(["429"])
    results = await erp.batch([Op(OpKind.CREATE, "CustomersV3", "usmf/TH-1", {})])
    assert isinstance(results[0].error, ThrottledError)
    assert results[0].error.retry_after_s == 11


async def test_expired_token_is_renewed_once_transparently(sim, erp):
    assert await erp.get("CustomersV3", "usmf/C00002") is not None
    before = sim.stats()["tokens_issued"]
    sim.advance_clock(3700)  # past the token's expiry on the server's clock
    try:
        assert await erp.get("CustomersV3", "usmf/C00002") is not None
    finally:
        sim.advance_clock(-3700)
    assert sim.stats()["tokens_issued"] == before + 1


async def test_wrong_secret_is_an_auth_error_without_the_secret(sim, caplog):
    caplog.set_level(logging.DEBUG)
    conn = D365Connector(
        base_url=sim.base_url,
        tenant="simtenant",
        client_id="sim-client",
        client_secret="hunter2-very-secret",
        authority_host=sim.base_url,
        ca_file=str(sim.verify),
    )
    try:
        with pytest.raises(AuthError) as caught:
            await conn.get("CustomersV3", "usmf/C00002")
    finally:
        await conn.aclose()
    assert caught.value.vendor_code == "invalid_client"
    for text in (str(caught.value), repr(conn), caplog.text, caught.value.vendor_message or ""):
        assert "hunter2" not in text


async def test_bad_keys_unknown_entities_and_read_only_sets_fail_clearly(erp):
    with pytest.raises(ValidationError):
        await erp.get("CustomersV3", "only-one-part")
    with pytest.raises(NotFoundError):
        await erp.get("Customers", "usmf/C00002")
    with pytest.raises(ValidationError):
        await erp.create("SalesInvoiceHeadersV2", {}, "usmf/INV-1")
    with pytest.raises(ValidationError) as caught:
        await erp.create("CustomersV3", {"NoSuchField": 1}, "usmf/NSF-1")
    assert caught.value.field == "NoSuchField"


async def test_reference_data_and_dimension_display_values_read_back(erp):
    groups = await erp.search("CustomerGroups", {"dataAreaId": "usmf"})
    assert {g.values["CustomerGroupId"] for g in groups} >= {"10", "20"}
    dims = await erp.search("FinancialDimensionValues", {"FinancialDimension": "Department"})
    assert {d.key.id.split("/")[1] for d in dims} == {"usmf", "demf"}
    customer = await erp.get("CustomersV3", "usmf/C00002")
    assert customer.values["DefaultDimensionDisplayValue"].endswith("-SALES-")


def test_from_config_requires_the_connection_settings():
    from syncloom.errors import ConfigError

    with pytest.raises(ConfigError, match="client_secret"):
        D365Connector.from_config({"base_url": "https://x", "tenant": "t", "client_id": "c"})
    conn = D365Connector.from_config(
        {
            "base_url": "https://X.example.com/",
            "tenant": "t",
            "client_id": "c",
            "client_secret": "sekret-value",
            "batch_size": 9000,
        }
    )
    assert conn.base_url == "https://x.example.com"
    assert conn.batch_size == 5000
    assert "sekret" not in repr(conn)


async def test_throttled_batch_parts_fail_alone_with_their_retry_hint(sim, erp):
    await erp.get("CustomersV3", "usmf/C00002")
    limit = {"request_limit": 2, "window_s": 300, "retry_after_s": 13}
    httpx.post(f"{sim.base_url}/_sim/throttling", json=limit, verify=sim.verify)
    try:
        results = await erp.batch(
            [
                Op(OpKind.CREATE, "CustomersV3", f"usmf/PT-{n}", {"CustomerGroupId": "10"})
                for n in range(3)
            ]
        )
    finally:
        httpx.post(
            f"{sim.base_url}/_sim/throttling", json={"request_limit": None}, verify=sim.verify
        )
    assert [r.ok for r in results] == [True, False, False]
    assert all(isinstance(r.error, ThrottledError) for r in results[1:])
    assert results[1].error.retry_after_s == 13
