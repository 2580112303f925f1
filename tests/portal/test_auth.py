from __future__ import annotations

from datetime import UTC, datetime, timedelta

from argon2 import PasswordHasher
from fastapi.testclient import TestClient

from syncloom.engine.clock import FrozenClock
from syncloom.portal.throttle import LoginThrottle
from syncloom.store import Accounts, AuditLog
from syncloom.store.models import User
from tests.portal.fixtures import PASSWORD, World, csrf_of, sign_in


def test_pages_redirect_to_sign_in_and_api_answers_401(client: TestClient) -> None:
    page = client.get("/connections", follow_redirects=False)
    assert page.status_code == 303
    assert page.headers["location"] == "/login?next=/connections"
    api = client.get("/api/connections")
    assert api.status_code == 401
    assert "sign in" in api.json()["detail"]


def test_sign_in_sets_a_hardened_session_cookie(client: TestClient) -> None:
    page = client.get("/login")
    response = client.post(
        "/login",
        data={"email": "Admin@Acme.test", "password": PASSWORD, "csrf_token": csrf_of(page.text)},
        follow_redirects=False,
    )
    assert response.status_code == 303
    cookie = response.headers["set-cookie"].lower()
    assert "syncloom_session=" in cookie
    assert "httponly" in cookie
    assert "samesite=lax" in cookie
    assert "admin@acme.test (admin)" in client.get("/").text


def test_cookies_are_secure_under_tls(world: World) -> None:
    with TestClient(world.app(), base_url="https://testserver") as tls_client:
        page = tls_client.get("/login")
        response = tls_client.post(
            "/login",
            data={
                "email": "viewer@acme.test",
                "password": PASSWORD,
                "csrf_token": csrf_of(page.text),
            },
            follow_redirects=False,
        )
    assert "secure" in response.headers["set-cookie"].lower()


def test_wrong_password_is_refused_and_then_throttled(client: TestClient) -> None:
    page = client.get("/login")
    token = csrf_of(page.text)
    form = {"email": "admin@acme.test", "password": "nope", "csrf_token": token}
    statuses = [client.post("/login", data=form).status_code for _ in range(5)]
    assert statuses == [401] * 5
    blocked = client.post("/login", data=dict(form, password=PASSWORD))
    assert blocked.status_code == 429
    assert "Too many failed sign-ins" in blocked.text
    assert "syncloom_session" not in client.cookies


def test_sign_in_form_needs_its_csrf_token(client: TestClient) -> None:
    client.get("/login")
    response = client.post(
        "/login", data={"email": "admin@acme.test", "password": PASSWORD, "csrf_token": "forged"}
    )
    assert response.status_code == 403
    assert "syncloom_session" not in client.cookies


def test_forms_without_the_csrf_token_are_refused(client: TestClient, admin: str) -> None:
    form = {"name": "crm", "system": "creatio", "base_url": "https://crm.example"}
    refused = client.post("/connections", data=form)
    assert refused.status_code == 403
    accepted = client.post("/connections", data=dict(form, csrf_token=admin))
    assert accepted.status_code == 200
    assert "Connection crm created." in accepted.text


def test_api_changes_with_a_cookie_need_the_csrf_header(client: TestClient, admin: str) -> None:
    body = {"name": "crm", "system": "creatio", "base_url": "https://crm.example"}
    assert client.post("/api/connections", json=body).status_code == 403
    created = client.post("/api/connections", json=body, headers={"X-CSRF-Token": admin})
    assert created.status_code == 201


def test_api_tokens_act_for_their_user_without_csrf(world: World, client: TestClient) -> None:
    with world.sessions.begin() as session:
        token = Accounts(session).issue_token(world.acme, "ci", user_id=world.users["operator"])
        secret = token.reveal()
    headers = {"Authorization": f"Bearer {secret}"}
    assert client.get("/api/connections", headers=headers).status_code == 200
    body = {"name": "crm", "system": "creatio", "base_url": "https://crm.example"}
    assert client.post("/api/connections", json=body, headers=headers).status_code == 403
    bad = client.get("/api/connections", headers={"Authorization": "Bearer slt_wrong"})
    assert bad.status_code == 401


def test_tampered_session_cookie_is_ignored(client: TestClient, admin: str) -> None:
    value = client.cookies["syncloom_session"]
    client.cookies.set(
        "syncloom_session", value[:-2] + ("A" if value[-2] != "A" else "B") + value[-1]
    )
    assert client.get("/api/connections").status_code == 401


def test_sign_out_ends_the_session(client: TestClient, admin: str) -> None:
    response = client.post("/logout", data={"csrf_token": admin}, follow_redirects=False)
    assert response.status_code == 303
    assert client.get("/api/connections").status_code == 401


def test_next_never_leaves_the_site(client: TestClient) -> None:
    page = client.get("/login?next=//evil.example/x")
    response = client.post(
        "/login",
        data={
            "email": "admin@acme.test",
            "password": PASSWORD,
            "csrf_token": csrf_of(page.text),
            "next": "//evil.example/x",
        },
        follow_redirects=False,
    )
    assert response.headers["location"] == "/"


def test_switching_tenant_needs_a_membership(world: World, client: TestClient) -> None:
    csrf = sign_in(client, "admin@acme.test")
    refused = client.post("/tenant", data={"tenant_id": world.globex, "csrf_token": csrf})
    assert "not a member" in refused.text
    with world.sessions() as session:
        assert [e.action for e in AuditLog(session).entries(world.globex)] == []


def test_every_form_carries_the_csrf_token(world: World, client: TestClient, admin: str) -> None:
    pages = [
        "/",
        "/connections",
        "/dead-letters",
        "/configs",
        "/flows",
        "/alerts",
        "/users",
        "/audit",
    ]
    for path in pages:
        html = client.get(path).text
        assert 'name="csrf_token" value=""' not in html, path
        assert html.count(f'name="csrf_token" value="{admin}"') >= 1, path


def test_a_new_password_ends_older_sessions(world: World, client: TestClient, admin: str) -> None:
    assert client.get("/api/connections").status_code == 200
    with world.sessions.begin() as session:
        user = session.get(User, world.users["admin"])
        assert user is not None
        user.password_hash = PasswordHasher().hash("a brand new password")
    assert client.get("/api/connections").status_code == 401


def test_header_names_the_tenant(client: TestClient, admin: str) -> None:
    assert "Acme · admin@acme.test (admin)" in client.get("/").text


def test_one_address_guessing_many_accounts_is_throttled(client: TestClient) -> None:
    token = csrf_of(client.get("/login").text)
    statuses = [
        client.post(
            "/login", data={"email": f"u{n}@acme.test", "password": "x", "csrf_token": token}
        ).status_code
        for n in range(21)
    ]
    assert statuses == [401] * 20 + [429]


def test_throttle_forgets_failures_after_the_window(world: World, client: TestClient) -> None:
    clock = FrozenClock(datetime(2026, 1, 1, tzinfo=UTC))
    world.deps.throttle = LoginThrottle(clock, limit=2)
    token = csrf_of(client.get("/login").text)
    form = {"email": "admin@acme.test", "password": "x", "csrf_token": token}
    assert [client.post("/login", data=form).status_code for _ in range(3)] == [401, 401, 429]
    clock.advance(timedelta(minutes=16))
    assert (
        client.post(
            "/login", data=dict(form, password=PASSWORD), follow_redirects=False
        ).status_code
        == 303
    )
