from __future__ import annotations

from fastapi.testclient import TestClient

from syncloom.store import AuditLog
from syncloom.store.models import Connection
from syncloom.vault import open_credentials
from tests.portal.fixtures import World

NEW = {
    "name": "crm",
    "system": "creatio",
    "environment": "production",
    "base_url": "https://crm.example",
}


def test_credentials_are_sealed_and_never_returned(
    world: World, client: TestClient, admin: str
) -> None:
    body = dict(NEW, credentials={"username": "sync", "password": "s3cret-pw"})
    created = client.post("/api/connections", json=body, headers={"X-CSRF-Token": admin})
    assert created.status_code == 201, created.text
    assert created.json()["has_credentials"] is True
    assert "s3cret-pw" not in created.text
    listing = client.get("/api/connections").text + client.get("/connections").text
    assert "s3cret-pw" not in listing
    with world.sessions() as session:
        row = session.get(Connection, created.json()["id"])
        assert row is not None
        assert b"s3cret-pw" not in (row.credentials or b"")
        assert open_credentials(world.deps.vault, row)["password"] == "s3cret-pw"


def test_credential_change_is_audited_without_values(
    world: World, client: TestClient, admin: str
) -> None:
    headers = {"X-CSRF-Token": admin}
    conn_id = client.post("/api/connections", json=NEW, headers=headers).json()["id"]
    changed = client.patch(
        f"/api/connections/{conn_id}",
        json={"credentials": {"password": "n3w-pw"}, "base_url": "https://crm2.example"},
        headers=headers,
    )
    assert changed.status_code == 200
    with world.sessions() as session:
        entries = AuditLog(session).entries(world.acme)
        actions = [e.action for e in entries]
        assert "connection.credentials_change" in actions
        assert "connection.update" in actions
        assert all("n3w-pw" not in str(e.delta) for e in entries)


def test_bad_input_names_the_field_and_saves_nothing(
    world: World, client: TestClient, admin: str
) -> None:
    headers = {"X-CSRF-Token": admin}
    bad = client.post("/api/connections", json=dict(NEW, base_url="ftp:/nope"), headers=headers)
    assert bad.status_code == 422
    assert any(d["field"].endswith("base_url") for d in bad.json()["detail"])
    client.post("/api/connections", json=NEW, headers=headers)
    duplicate = client.post("/api/connections", json=NEW, headers=headers)
    assert duplicate.status_code == 422
    assert duplicate.json()["detail"][0]["field"] == "name"
    with world.sessions() as session:
        assert session.query(Connection).count() == 1


def test_form_shows_field_errors(client: TestClient, admin: str) -> None:
    page = client.post(
        "/connections",
        data=dict(NEW, name="Bad Name!", base_url="nope", csrf_token=admin),
    )
    assert page.status_code == 422
    assert 'aria-invalid="true"' in page.text
    assert "must be an http:// or https:// URL" in page.text


def test_connection_test_button_shows_the_engines_answer(
    world: World, client: TestClient, admin: str
) -> None:
    conn_id = client.post("/api/connections", json=NEW, headers={"X-CSRF-Token": admin}).json()[
        "id"
    ]
    page = client.post(f"/connections/{conn_id}/test", data={"csrf_token": admin})
    assert "Connection test passed: signed in; 3 entities visible" in page.text
    world.engine.connection_ok = False
    page = client.post(f"/connections/{conn_id}/test", data={"csrf_token": admin})
    assert "Connection test failed: the system refused the credentials" in page.text
    assert world.engine.calls[-1] == ("test_connection", (world.acme, conn_id))
