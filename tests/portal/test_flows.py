from __future__ import annotations

import textwrap
from datetime import UTC, datetime

import pytest
from fastapi.testclient import TestClient

from syncloom.engine.flows import load_flows
from syncloom.store import AuditLog, ConfigVersions
from tests.portal.fixtures import World

DOCUMENT = textwrap.dedent(
    """
    value_maps:
      countries:
        values: {US: USA, DE: DEU}
    flows:
      - name: accounts
        source: {connection: crm, entity: Account}
        target: {connection: erp, entity: Customer}
        direction: both
        fields:
          - {source: Name, target: CustomerName, transform: "upper(value)", direction: to_target}
          - {source: Country, target: CountryCode, value_map: countries, create_only: true}
    """
)


@pytest.fixture
def flows(world: World) -> World:
    with world.sessions.begin() as session:
        ConfigVersions(session).save(world.acme, "flows", DOCUMENT, author="seed")
    return world


def newest(world: World) -> str:
    with world.sessions() as session:
        latest = ConfigVersions(session).latest(world.acme, "flows")
        assert latest is not None
        return latest.document


def test_settings_save_a_new_flow_document(flows: World, client: TestClient, admin: str) -> None:
    page = client.post(
        "/flows/accounts/settings",
        data={
            "direction": "one_way",
            "conflict": "erp_wins",
            "delete": "ignore",
            "schedule_cron": "*/10 * * * *",
            "schedule_timezone": "Europe/Berlin",
            "csrf_token": admin,
        },
    )
    assert "Settings of accounts saved." in page.text
    flow = load_flows(newest(flows)).flow("accounts")
    assert (flow.direction, flow.conflict, flow.delete) == ("one_way", "erp_wins", "ignore")
    assert flow.schedule is not None
    assert flow.schedule.timezone == "Europe/Berlin"


def test_bad_schedule_is_a_field_error_and_nothing_is_saved(
    flows: World, client: TestClient, admin: str
) -> None:
    page = client.post(
        "/flows/accounts/settings",
        data={
            "schedule_cron": "every tuesday",
            "schedule_timezone": "Mars/Base",
            "csrf_token": admin,
        },
    )
    assert page.status_code == 422
    assert 'class="field-error"' in page.text
    assert newest(flows) == DOCUMENT


def test_field_map_editor_keeps_hidden_options(
    flows: World, client: TestClient, admin: str
) -> None:
    form = {
        "fields-0-source": "Name",
        "fields-0-target": "CustomerName",
        "fields-0-direction": "to_target",
        "fields-0-transform": "lower(value)",
        "fields-1-source": "Country",
        "fields-1-target": "CountryCode",
        "fields-1-value_map": "countries",
        "fields-2-source": "Phone",
        "fields-2-target": "PhoneNo",
        "fields-3-source": "",
        "fields-3-target": "",
        "csrf_token": admin,
    }
    page = client.post("/flows/accounts/fields", data=form)
    assert "Field map of accounts saved." in page.text
    fields = load_flows(newest(flows)).flow("accounts").fields
    assert [f.target for f in fields] == ["CustomerName", "CountryCode", "PhoneNo"]
    assert fields[0].transform == "lower(value)"
    assert fields[1].create_only is True


def test_field_map_errors_point_at_the_row(flows: World, client: TestClient, admin: str) -> None:
    form = {
        "fields-0-source": "Name",
        "fields-0-target": "CustomerName",
        "fields-0-transform": "uper(value)",
        "csrf_token": admin,
    }
    page = client.post("/flows/accounts/fields", data=form)
    assert page.status_code == 422
    assert "uper" in page.text
    assert newest(flows) == DOCUMENT


def test_preview_maps_a_sample_both_ways(flows: World, client: TestClient, admin: str) -> None:
    answer = client.post(
        "/api/flows/accounts/preview",
        json={"record": {"Name": "acme", "Country": "DE"}},
        headers={"X-CSRF-Token": admin},
    )
    assert answer.status_code == 200
    assert answer.json()["to_target"] == {"CustomerName": "ACME", "CountryCode": "DEU"}
    bad = client.post(
        "/api/flows/accounts/preview",
        json={"record": {"Name": "acme", "Country": "FR"}},
        headers={"X-CSRF-Token": admin},
    ).json()
    assert bad["problems"][0]["field"] == "CountryCode"
    page = client.post(
        "/flows/accounts/preview",
        data={
            "fields-0-source": "Name",
            "fields-0-target": "Title",
            "sample": '{"Name": "globex"}',
            "csrf_token": admin,
        },
    )
    assert "<th>Title</th><td><code>globex</code>" in page.text
    assert newest(flows) == DOCUMENT


def test_engine_actions_are_audited(flows: World, client: TestClient, admin: str) -> None:
    headers = {"X-CSRF-Token": admin}
    assert client.post("/api/flows/accounts/run", headers=headers).json() == {
        "run": "run-accounts-1"
    }
    report = client.post("/flows/accounts/dry-run", data={"csrf_token": admin})
    assert "Dry-run report" in report.text
    assert "creatio:Account:a2" in report.text
    page = client.post(
        "/flows/accounts/backfill", data={"since": "2026-01-02T03:04", "csrf_token": admin}
    )
    assert "Backfill backfill-accounts started from 2026-01-02 03:04 UTC." in page.text
    assert flows.engine.calls[-1] == (
        "backfill",
        (flows.acme, "accounts", datetime(2026, 1, 2, 3, 4, tzinfo=UTC)),
    )
    with flows.sessions() as session:
        actions = [e.action for e in AuditLog(session).entries(flows.acme)]
    assert actions[:3] == ["flow.backfill", "flow.dry_run", "flow.run_now"]


def test_switched_off_flows_do_not_run(flows: World, client: TestClient, admin: str) -> None:
    headers = {"X-CSRF-Token": admin}
    assert client.post("/api/flows/accounts/disable", headers=headers).json()["enabled"] is False
    refused = client.post("/api/flows/accounts/run", headers=headers)
    assert refused.status_code == 409
    assert "switched off" in refused.json()["detail"]
    assert flows.engine.calls == []
    listing = client.get("/flows")
    assert "Switch on accounts" in listing.text


def test_unknown_flow_is_404(flows: World, client: TestClient, admin: str) -> None:
    assert client.get("/api/flows/nope").status_code == 404
    assert client.post("/api/flows/nope/run", headers={"X-CSRF-Token": admin}).status_code == 404


def test_flow_page_warns_about_missing_connections(
    flows: World, client: TestClient, admin: str
) -> None:
    assert "do not exist yet: crm, erp" in client.get("/flows/accounts").text
    client.post(
        "/api/connections",
        json={"name": "crm", "system": "creatio", "base_url": "https://crm.example"},
        headers={"X-CSRF-Token": admin},
    )
    assert "do not exist yet: erp." in client.get("/flows/accounts").text
