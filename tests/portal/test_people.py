from __future__ import annotations

from fastapi.testclient import TestClient

from syncloom.store import AuditLog
from tests.portal.fixtures import PASSWORD, World, sign_in


def test_admin_adds_a_member_who_can_sign_in(world: World, client: TestClient, admin: str) -> None:
    page = client.post(
        "/users",
        data={
            "email": "new@acme.test",
            "role": "operator",
            "password": "long enough pw",
            "csrf_token": admin,
        },
    )
    assert "new@acme.test added as operator." in page.text
    client.cookies.clear()
    sign_in(client, "new@acme.test", "long enough pw")
    assert "new@acme.test (operator)" in client.get("/").text


def test_short_password_is_a_field_error(client: TestClient, admin: str) -> None:
    page = client.post(
        "/users",
        data={"email": "x@acme.test", "role": "viewer", "password": "short", "csrf_token": admin},
    )
    assert page.status_code == 422
    assert "at least 12 characters" in page.text


def test_the_last_admin_stays_admin(world: World, client: TestClient, admin: str) -> None:
    headers = {"X-CSRF-Token": admin}
    demoted = client.patch(
        f"/api/users/{world.users['admin']}", json={"role": "viewer"}, headers=headers
    )
    assert demoted.status_code == 422
    assert demoted.json()["detail"][0]["field"] == "role"
    promoted = client.patch(
        f"/api/users/{world.users['viewer']}", json={"role": "operator"}, headers=headers
    )
    assert promoted.status_code == 204
    with world.sessions() as session:
        entry = AuditLog(session).entries(world.acme)[0]
    assert (entry.action, entry.delta) == ("user.role_change", {"role": ["viewer", "operator"]})


def test_a_role_change_takes_effect_at_once(world: World, client: TestClient) -> None:
    operator_csrf = sign_in(client, "operator@acme.test")
    headers = {"X-CSRF-Token": operator_csrf}
    assert client.post("/api/flows/x/run", headers=headers).status_code == 404
    with TestClient(world.app()) as other:
        admin_csrf = sign_in(other, "admin@acme.test")
        other.patch(
            f"/api/users/{world.users['operator']}",
            json={"role": "viewer"},
            headers={"X-CSRF-Token": admin_csrf},
        )
    assert client.post("/api/flows/x/run", headers=headers).status_code == 403


def test_token_secret_is_shown_once_and_revocable(
    world: World, client: TestClient, admin: str
) -> None:
    issued = client.post("/api/tokens", json={"name": "ci"}, headers={"X-CSRF-Token": admin}).json()
    secret = issued["secret"]
    assert secret.startswith("slt_")
    assert secret not in client.get("/api/tokens").text
    assert secret not in client.get("/users").text
    bearer = {"Authorization": f"Bearer {secret}"}
    assert client.get("/api/dashboard", headers=bearer).status_code == 200
    client.delete(f"/api/tokens/{issued['id']}", headers={"X-CSRF-Token": admin})
    assert client.get("/api/dashboard", headers=bearer).status_code == 401


def test_new_tenant_and_switching(world: World, client: TestClient, admin: str) -> None:
    created = client.post(
        "/api/tenants", json={"slug": "initech", "name": "Initech"}, headers={"X-CSRF-Token": admin}
    )
    tenant_id = created.json()["id"]
    page = client.post("/tenant", data={"tenant_id": tenant_id, "csrf_token": admin})
    assert "Switched tenant." in page.text
    assert client.get("/api/connections").json() == []
    names = [t["name"] for t in client.get("/api/tenants").json()]
    assert names == ["Acme", "Initech"]


def test_audit_page_lists_actions(world: World, client: TestClient, admin: str) -> None:
    client.post("/api/tokens", json={"name": "ci"}, headers={"X-CSRF-Token": admin})
    assert "token.issue" in client.get("/audit").text
    assert [
        e["action"] for e in client.get("/api/audit", params={"action": "token.issue"}).json()
    ] == ["token.issue"]


def test_changing_ones_password(world: World, client: TestClient) -> None:
    csrf = sign_in(client, "viewer@acme.test")
    with TestClient(world.app()) as elsewhere:
        sign_in(elsewhere, "viewer@acme.test")
        wrong = client.post(
            "/account/password",
            data={
                "current_password": "nope",
                "new_password": "a new long password",
                "csrf_token": csrf,
            },
        )
        assert wrong.status_code == 422
        assert "not your current password" in wrong.text
        done = client.post(
            "/account/password",
            data={
                "current_password": PASSWORD,
                "new_password": "a new long password",
                "csrf_token": csrf,
            },
        )
        assert "Password changed" in done.text
        assert client.get("/api/dashboard").status_code == 200
        assert elsewhere.get("/api/dashboard").status_code == 401
    client.cookies.clear()
    sign_in(client, "viewer@acme.test", "a new long password")
