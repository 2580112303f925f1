"""A Connection's entities and fields through the API, read from the simulators over HTTP."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient

from syncloom.connectors.base import Connector
from syncloom.engine.clock import FrozenClock
from syncloom.node import open_connector
from syncloom.portal.schemas import ConnectionSchemas
from syncloom.simulators.common.server import SimulatorServer
from syncloom.simulators.creatio.app import CreatioSimulator
from syncloom.simulators.intacct.app import IntacctSimulator
from syncloom.store import ConfigVersions
from syncloom.store.models import Connection
from syncloom.vault import Vault
from tests.portal.fixtures import World, sign_in

CRM_SECRETS = {"username": "Supervisor", "password": "Supervisor"}
ERP_SECRETS = {
    "sender_id": "simsender",
    "sender_password": "simsenderpw",
    "company_id": "SIMCO",
    "user_id": "admin",
    "user_password": "admin",
}


@pytest.fixture(scope="module")
def systems() -> Iterator[dict[str, str]]:
    with (
        SimulatorServer(CreatioSimulator(records=3)) as crm,
        SimulatorServer(IntacctSimulator(records=3)) as erp,
    ):
        yield {"crm": crm.base_url, "erp": erp.base_url}


@pytest.fixture
def opened(world: World) -> list[str]:
    """Names of the Connections the portal opened a connector for, in order."""
    names: list[str] = []

    def counting(row: Connection, vault: Vault) -> Connector:
        names.append(row.name)
        return open_connector(row, vault)

    world.deps.schemas = ConnectionSchemas(world.deps.vault, opener=counting)
    return names


def _add(client: TestClient, csrf: str, name: str, system: str, url: str, secrets: dict) -> int:
    body = {"name": name, "system": system, "base_url": url, "credentials": secrets}
    created = client.post("/api/connections", json=body, headers={"X-CSRF-Token": csrf})
    assert created.status_code == 201, created.text
    return int(created.json()["id"])


@pytest.fixture
def connections(client: TestClient, admin: str, systems: dict[str, str]) -> dict[str, int]:
    return {
        "crm": _add(client, admin, "crm", "creatio", systems["crm"], CRM_SECRETS),
        "erp": _add(client, admin, "erp", "intacct", systems["erp"], ERP_SECRETS),
    }


def test_creatio_entities_and_custom_columns_are_listed(
    client: TestClient, connections: dict[str, int], opened: list[str]
) -> None:
    listing = client.get(f"/api/connections/{connections['crm']}/entities")
    assert listing.status_code == 200, listing.text
    assert "Account" in listing.json()["entities"]
    answer = client.get(f"/api/connections/{connections['crm']}/entities/Account/fields")
    assert answer.status_code == 200, answer.text
    fields = {f["name"]: f for f in answer.json()["fields"]}
    assert fields["UsrCustomerTier"]["custom"] is True
    assert fields["UsrCustomerTier"]["max_length"] == 20
    assert fields["Name"]["custom"] is False
    assert fields["Name"]["required"] is True


def test_intacct_udfs_come_with_their_valid_values(
    client: TestClient, connections: dict[str, int], opened: list[str]
) -> None:
    answer = client.get(f"/api/connections/{connections['erp']}/entities/CUSTOMER/fields")
    assert answer.status_code == 200, answer.text
    fields = {f["name"]: f for f in answer.json()["fields"]}
    assert fields["CUSTOMER_TIER"]["custom"] is True
    assert fields["CUSTOMER_TIER"]["allowed_values"] == ["Gold", "Silver", "Bronze"]
    assert fields["REGION_CODE"]["max_length"] == 10
    assert answer.json()["key_fields"] == ["CUSTOMERID"]


def test_answers_are_kept_until_refresh_or_a_settings_change(
    world: World,
    client: TestClient,
    admin: str,
    connections: dict[str, int],
    opened: list[str],
) -> None:
    url = f"/api/connections/{connections['crm']}/entities/Account/fields"
    first = client.get(url).json()
    assert client.get(url).json() == first
    assert opened == ["crm"]
    client.get(url, params={"refresh": "true"})
    assert opened == ["crm", "crm"]
    changed = client.patch(
        f"/api/connections/{connections['crm']}",
        json={"environment": "production"},
        headers={"X-CSRF-Token": admin},
    )
    assert changed.status_code == 200
    client.get(url)
    assert opened == ["crm", "crm", "crm"]
    assert world.deps.schemas is not None
    assert len(world.deps.schemas) == 1, "answers for the old settings are dropped"


def test_an_unknown_entity_is_404_naming_it(
    client: TestClient, connections: dict[str, int], opened: list[str]
) -> None:
    answer = client.get(f"/api/connections/{connections['crm']}/entities/Acount/fields")
    assert answer.status_code == 404
    assert "Acount" in answer.json()["detail"]


def test_a_system_that_does_not_answer_is_502_naming_the_connection(
    client: TestClient, admin: str, opened: list[str]
) -> None:
    dead = _add(client, admin, "gone", "creatio", "http://127.0.0.1:9", CRM_SECRETS)
    answer = client.get(f"/api/connections/{dead}/entities/Account/fields")
    assert answer.status_code == 502
    assert answer.json()["detail"].startswith("gone")


@pytest.mark.parametrize("email", ["operator@acme.test", "viewer@acme.test"])
def test_only_admins_may_read_schemas(
    world: World, systems: dict[str, str], email: str, opened: list[str]
) -> None:
    with TestClient(world.app(), base_url="http://testserver") as admin_client:
        csrf = sign_in(admin_client, "admin@acme.test")
        crm = _add(admin_client, csrf, "crm", "creatio", systems["crm"], CRM_SECRETS)
    with TestClient(world.app(), base_url="http://testserver") as other:
        sign_in(other, email)
        assert other.get(f"/api/connections/{crm}/entities").status_code == 403
    assert opened == []


def test_another_tenants_connection_is_not_found(
    world: World, connections: dict[str, int], opened: list[str]
) -> None:
    with TestClient(world.app(), base_url="http://testserver") as other:
        sign_in(other, "admin@globex.test")
        answer = other.get(f"/api/connections/{connections['crm']}/entities/Account/fields")
        assert answer.status_code == 404
    assert opened == []


FLOWS = """
flows:
  - name: accounts
    source: {connection: crm, entity: Account}
    target: {connection: erp, entity: CUSTOMER}
    fields:
      - {source: Name, target: NAME}
"""


def _save_flows(world: World) -> None:
    with world.sessions.begin() as session:
        ConfigVersions(session).save(world.acme, "flows", FLOWS, author="seed")


def test_the_editor_offers_both_sides_fields_with_custom_ones_marked(
    world: World, client: TestClient, connections: dict[str, int], opened: list[str]
) -> None:
    _save_flows(world)
    page = client.get("/flows/accounts")
    assert page.status_code == 200
    assert 'aria-label="Pick from target fields, row 1"' in page.text
    assert "CUSTOMER_TIER — enum · one of Gold, Silver, Bronze · custom" in page.text
    assert "UsrCustomerTier — string ≤ 20 · custom" in page.text
    assert '<optgroup label="Custom fields">' in page.text
    assert sorted(opened) == ["crm", "erp"]


def test_viewers_get_the_plain_editor_and_no_system_is_asked(
    world: World, client: TestClient, connections: dict[str, int], opened: list[str]
) -> None:
    _save_flows(world)
    with TestClient(world.app(), base_url="http://testserver") as viewer:
        sign_in(viewer, "viewer@acme.test")
        page = viewer.get("/flows/accounts")
    assert page.status_code == 200
    assert "Pick from target fields" not in page.text
    assert opened == []


def test_a_side_that_cannot_be_read_is_said_and_the_other_is_offered(
    world: World, client: TestClient, admin: str, systems: dict[str, str], opened: list[str]
) -> None:
    _save_flows(world)
    _add(client, admin, "crm", "creatio", "http://127.0.0.1:9", CRM_SECRETS)
    _add(client, admin, "erp", "intacct", systems["erp"], ERP_SECRETS)
    page = client.get("/flows/accounts")
    assert page.status_code == 200
    assert "Fields of crm:Account could not be read" in page.text
    assert 'aria-label="Pick from target fields, row 1"' in page.text
    assert 'aria-label="Pick from source fields, row 1"' not in page.text


def test_an_answer_older_than_an_hour_is_asked_again(
    world: World, client: TestClient, connections: dict[str, int]
) -> None:
    clock = FrozenClock(datetime(2026, 3, 1, 9, 0, tzinfo=UTC))
    opened: list[str] = []

    def counting(row: Connection, vault: Vault) -> Connector:
        opened.append(row.name)
        return open_connector(row, vault)

    world.deps.schemas = ConnectionSchemas(world.deps.vault, opener=counting, clock=clock)
    url = f"/api/connections/{connections['erp']}/entities"
    assert client.get(url).json()["read_at"].startswith("2026-03-01T09:00")
    clock.advance(timedelta(minutes=59))
    client.get(url)
    assert opened == ["erp"]
    clock.advance(timedelta(minutes=2))
    assert client.get(url).json()["read_at"].startswith("2026-03-01T10:01")
    assert opened == ["erp", "erp"]


def test_a_mapped_name_the_system_does_not_list_is_pointed_out(
    world: World, client: TestClient, connections: dict[str, int], opened: list[str]
) -> None:
    with world.sessions.begin() as session:
        typo = FLOWS.replace("{source: Name, target: NAME}", "{source: Name, target: NAEM}")
        ConfigVersions(session).save(world.acme, "flows", typo, author="seed")
    page = client.get("/flows/accounts").text
    assert "not in the field list of erp:CUSTOMER" in page
    assert "not in the field list of crm:Account" not in page
    assert "RECORDNO — integer · read-only" in page
    assert "OwnerId — lookup → Contact" in page
