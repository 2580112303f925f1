"""Creatio quirks the shared contract cannot know: re-login, cursors, lookups, types."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import httpx
import pytest

from syncloom.connectors.base import FieldType, Op, OpKind
from syncloom.connectors.creatio import CreatioConnector
from syncloom.errors import (
    AuthError,
    ConfigError,
    NotFoundError,
    StaleVersionError,
    TransientError,
)
from syncloom.simulators.creatio.auth import INTEGRATION_CONTACT
from syncloom.simulators.creatio.seeding import seed_id
from tests.connectors.creatio.conftest import running_creatio

pytestmark = pytest.mark.anyio


@pytest.fixture(scope="module")
def sim():
    with running_creatio() as handle:
        yield handle


@pytest.fixture
async def forms(sim):
    conn = CreatioConnector(sim.base_url, username="Supervisor", password="Supervisor")
    yield conn
    await conn.aclose()


def sessions(sim, **body) -> None:
    httpx.post(f"{sim.base_url}/_sim/sessions", json=body).raise_for_status()


def oauth(sim) -> CreatioConnector:
    return CreatioConnector.from_config(
        {
            "base_url": sim.base_url,
            "client_id": "sim-client",
            "client_secret": "sim-secret",
            "token_url": f"{sim.base_url}/connect/token",
        }
    )


async def test_expired_login_is_renewed_once_transparently(sim, forms):
    assert await forms.get("Account", seed_id("Account", 1)) is not None
    sessions(sim, expire=True)
    assert await forms.get("Account", seed_id("Account", 2)) is not None
    assert forms.client.logins == 2


async def test_lost_csrf_context_relogs_in_but_a_lasting_403_is_auth_error(sim, forms):
    await forms.get("Account", seed_id("Account", 1))
    sessions(sim, deny=1)
    assert await forms.get("Account", seed_id("Account", 1)) is not None
    sessions(sim, deny=2)
    with pytest.raises(AuthError):
        await forms.get("Account", seed_id("Account", 1))
    sessions(sim, deny=0)


async def test_wrong_password_is_auth_error_without_the_secret(sim):
    conn = CreatioConnector(sim.base_url, username="Supervisor", password="hunter2-secret")
    with pytest.raises(AuthError) as caught:
        await conn.get("Account", seed_id("Account", 1))
    await conn.aclose()
    assert caught.value.vendor_message == "Invalid username or password"
    assert "hunter2" not in str(caught.value)
    assert "hunter2" not in repr(conn)


async def test_oauth_token_renewed_after_expiry_and_writes_carry_integration_user(sim):
    conn = oauth(sim)
    made = await conn.create("City", {"Name": "OAuth city"})
    assert made.modified_by == INTEGRATION_CONTACT
    sim.advance_clock(3700)
    try:
        assert await conn.get("City", made.key.id) is not None
        assert conn.client.logins == 2
    finally:
        sim.freeze_clock(None)
        await conn.aclose()
    assert "sim-secret" not in repr(conn)


async def test_bad_client_secret_is_auth_error(sim):
    conn = CreatioConnector(
        sim.base_url,
        client_id="sim-client",
        client_secret="nope",
        token_url=f"{sim.base_url}/connect/token",
    )
    with pytest.raises(AuthError, match="invalid_client"):
        await conn.get("Account", seed_id("Account", 1))
    await conn.aclose()


async def test_redirect_to_login_page_triggers_relogin():
    with running_creatio(unauth_mode="redirect") as handle:
        conn = CreatioConnector(handle.base_url, username="Supervisor", password="Supervisor")
        await conn.get("Account", seed_id("Account", 1))
        sessions(handle, expire=True)
        assert await conn.get("Account", seed_id("Account", 1)) is not None
        assert conn.client.logins == 2
        await conn.aclose()


async def test_keyset_cursor_survives_updates_between_pages(sim, forms):
    moment = datetime(2031, 5, 1, tzinfo=UTC)
    sim.freeze_clock(moment)
    made = [(await forms.create("City", {"Name": f"Moving {n}"})).key.id for n in range(9)]
    sim.freeze_clock(moment + timedelta(seconds=1))
    first = await forms.read_changes("City", moment, None, page_size=4)
    # Rows already read and rows not yet read change while we page: with $skip this
    # would shift the unread rows and skip some; the keyset cursor must still see all.
    await forms.update("City", first.records[0].key.id, {"Description": "touched"})
    unread = sorted(set(made) - {r.key.id for r in first.records})
    await forms.update("City", unread[0], {"Description": "touched"})
    sim.freeze_clock(None)
    seen = [r.key.id for r in first.records]
    cursor = first.cursor
    while cursor:
        page = await forms.read_changes("City", moment, cursor, page_size=4)
        seen.extend(r.key.id for r in page.records)
        cursor = page.cursor
    assert set(made) <= set(seen)
    assert seen.count(unread[0]) == 1


async def test_describe_reads_types_from_metadata(forms):
    contact = await forms.describe("Contact")
    assert contact.field("AccountId").type is FieldType.LOOKUP
    assert contact.field("AccountId").lookup_entity == "Account"
    assert contact.field("BirthDate").type is FieldType.DATE
    assert contact.field("ModifiedOn").read_only
    assert contact.field("UsrErpContactId").custom
    assert contact.field("ContactPhoto") is None  # streams are not record values
    with pytest.raises(NotFoundError):
        await forms.describe("account")


async def test_lookups_resolve_codes_and_names_both_ways(forms):
    usd = seed_id("Currency", "USD")
    assert await forms.lookup_id("Currency", "usd") == usd
    assert await forms.lookup_id("Country", "Germany") == seed_id("Country", "DE")
    assert await forms.lookup_name("OrderStatus", seed_id("OrderStatus", "1. Draft")) == "1. Draft"
    assert await forms.lookup_id("Currency", "XXX") is None


async def test_search_filters_lookups_through_navigation_paths(forms):
    account = seed_id("Account", 4)
    found = await forms.search("Contact", {"AccountId": account})
    assert len(found) == 2
    assert all(r.values["AccountId"] == account for r in found)
    with pytest.raises(ConfigError):
        await forms.search("Contact", {"Nope": 1})


async def test_values_are_typed_and_money_keeps_its_digits(forms):
    made = await forms.create(
        "Product",
        {
            "Name": "Precise",
            "CurrencyId": seed_id("Currency", "USD"),
            "Price": Decimal("1234567.89"),
            "Active": True,
        },
    )
    record = await forms.get("Product", made.key.id)
    assert record.values["Price"] == Decimal("1234567.89")
    assert record.values["Active"] is True
    assert record.values["UsrAvailabilityUpdatedOn"] is None  # Creatio's empty date
    assert record.modified_on_utc.tzinfo is not None


async def test_stale_version_is_refused(forms):
    made = await forms.create("City", {"Name": "Versioned"})
    await forms.update("City", made.key.id, {"Description": "first"})
    with pytest.raises(StaleVersionError):
        await forms.update("City", made.key.id, {"Description": "second"}, version=made.version)


async def test_batch_splits_at_100_and_keeps_order(sim, forms):
    before = sim.stats()["requests"].get("POST /0/odata/$batch", 0)
    keys = [str(uuid.uuid4()) for _ in range(130)]
    ops = [Op(OpKind.CREATE, "City", k, {"Name": f"Bulk {n}"}) for n, k in enumerate(keys)]
    ops.append(Op(OpKind.UPDATE, "Nowhere", keys[0], {"Name": "x"}))
    results = await forms.batch(ops)
    assert [r.record.key.id for r in results[:130]] == keys
    assert isinstance(results[130].error, NotFoundError)
    assert sim.stats()["requests"]["POST /0/odata/$batch"] - before == 2


async def test_netcore_site_uses_the_odata_root():
    with running_creatio(netcore=True) as handle:
        conn = CreatioConnector.from_config(
            {
                "base_url": handle.base_url,
                "username": "Supervisor",
                "password": "Supervisor",
                "netcore": True,
            }
        )
        assert await conn.get("Account", seed_id("Account", 1)) is not None
        await conn.aclose()


def test_config_without_credentials_is_refused():
    with pytest.raises(ConfigError):
        CreatioConnector.from_config({"base_url": "https://acme.creatio.com"})
    with pytest.raises(ConfigError):
        CreatioConnector.from_config({"username": "a", "password": "b"})


@pytest.mark.parametrize("fault", ["503", "reset"])
async def test_a_failed_batch_call_is_reported_per_op_not_raised(sim, forms, fault):
    await forms.describe("City")
    sim.script_faults([fault])
    ops = [Op(OpKind.CREATE, "City", str(uuid.uuid4()), {"Name": f"Lost {n}"}) for n in range(3)]
    results = await forms.batch(ops)
    assert [type(r.error) for r in results] == [TransientError] * 3
    for op in ops:
        assert await forms.get("City", op.key) is None


async def test_describe_marks_custom_columns_and_their_length() -> None:
    with running_creatio() as sim:
        conn = CreatioConnector(sim.base_url, username="Supervisor", password="Supervisor")
        spec = await conn.describe("Account")
        names = await conn.entity_names()
        await conn.aclose()
    tier, name = spec.field("UsrCustomerTier"), spec.field("Name")
    assert tier is not None
    assert name is not None
    assert tier.custom
    assert tier.max_length == 20
    assert tier.type is FieldType.STRING
    assert not name.custom
    assert name.required
    assert "Account" in names
    assert names == sorted(names)
