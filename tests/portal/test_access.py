"""Every route against every role, and every id-bearing route against another tenant's ids."""

from __future__ import annotations

import re
from typing import Any

import pytest
from fastapi.testclient import TestClient

from syncloom.portal.routes import API_ROUTERS, PAGE_ROUTERS
from syncloom.store import Accounts, ConfigVersions
from syncloom.store.models import (
    AlertRule,
    Connection,
    DeadLetter,
    DeadLetterStatus,
    RecordLogEntry,
    Run,
    RunKind,
)
from tests.portal.fixtures import World, sign_in

V, OP, A = "viewer", "operator", "admin"
RANK = {V: 1, OP: 2, A: 3}
PUBLIC = {("GET", "/login"), ("POST", "/login")}
MINIMUM = {
    ("GET", "/api/connections"): V,
    ("POST", "/api/connections"): A,
    ("GET", "/api/connections/{connection_id}"): V,
    ("PATCH", "/api/connections/{connection_id}"): A,
    ("POST", "/api/connections/{connection_id}/test"): OP,
    ("GET", "/api/connections/{connection_id}/entities"): A,
    ("GET", "/api/connections/{connection_id}/entities/{entity}/fields"): A,
    ("GET", "/api/dead-letters"): V,
    ("POST", "/api/dead-letters/replay"): OP,
    ("GET", "/api/dead-letters/{letter_id}"): V,
    ("PATCH", "/api/dead-letters/{letter_id}"): OP,
    ("POST", "/api/dead-letters/{letter_id}/replay"): OP,
    ("POST", "/api/dead-letters/{letter_id}/dismiss"): OP,
    ("GET", "/api/jobs/{job}"): V,
    ("GET", "/api/configs"): V,
    ("GET", "/api/configs/{name}/versions"): V,
    ("GET", "/api/configs/{name}/versions/{version}"): V,
    ("GET", "/api/configs/{name}/diff"): V,
    ("POST", "/api/configs/{name}/rollback"): A,
    ("GET", "/api/configs/{name}/export"): V,
    ("POST", "/api/configs/{name}/import"): A,
    ("GET", "/api/flows"): V,
    ("GET", "/api/flows/{name}"): V,
    ("PATCH", "/api/flows/{name}"): A,
    ("PUT", "/api/flows/{name}/fields"): A,
    ("POST", "/api/flows/{name}/enable"): OP,
    ("POST", "/api/flows/{name}/disable"): OP,
    ("POST", "/api/flows/{name}/preview"): V,
    ("POST", "/api/flows/{name}/run"): OP,
    ("POST", "/api/flows/{name}/dry-run"): OP,
    ("POST", "/api/flows/{name}/backfill"): OP,
    ("GET", "/api/runs"): V,
    ("GET", "/api/runs/{run_id}"): V,
    ("GET", "/api/records"): V,
    ("GET", "/api/records/history"): V,
    ("GET", "/api/dashboard"): V,
    ("GET", "/api/alerts"): V,
    ("POST", "/api/alerts"): A,
    ("GET", "/api/alerts/{rule_id}"): V,
    ("PUT", "/api/alerts/{rule_id}"): A,
    ("DELETE", "/api/alerts/{rule_id}"): A,
    ("POST", "/api/alerts/{rule_id}/test"): OP,
    ("GET", "/api/audit"): V,
    ("GET", "/api/users"): V,
    ("POST", "/api/users"): A,
    ("PATCH", "/api/users/{user_id}"): A,
    ("DELETE", "/api/users/{user_id}"): A,
    ("GET", "/api/tenants"): V,
    ("POST", "/api/tenants"): A,
    ("GET", "/api/tokens"): V,
    ("POST", "/api/tokens"): V,
    ("DELETE", "/api/tokens/{token_id}"): V,
    ("POST", "/api/account/password"): V,
    ("POST", "/logout"): V,
    ("POST", "/tenant"): V,
    ("GET", "/"): V,
    ("GET", "/connections"): V,
    ("POST", "/connections"): A,
    ("GET", "/connections/{connection_id}"): V,
    ("POST", "/connections/{connection_id}"): A,
    ("POST", "/connections/{connection_id}/test"): OP,
    ("GET", "/dead-letters"): V,
    ("POST", "/dead-letters/replay"): OP,
    ("GET", "/dead-letters/{letter_id}"): V,
    ("POST", "/dead-letters/{letter_id}/edit"): OP,
    ("POST", "/dead-letters/{letter_id}/replay"): OP,
    ("POST", "/dead-letters/{letter_id}/dismiss"): OP,
    ("GET", "/configs"): V,
    ("POST", "/configs/import"): A,
    ("GET", "/configs/{name}"): V,
    ("GET", "/configs/{name}/diff"): V,
    ("GET", "/configs/{name}/versions/{version}"): V,
    ("POST", "/configs/{name}/rollback"): A,
    ("GET", "/flows"): V,
    ("GET", "/flows/{name}"): V,
    ("POST", "/flows/{name}/settings"): A,
    ("POST", "/flows/{name}/fields"): A,
    ("POST", "/flows/{name}/fields/refresh"): A,
    ("POST", "/flows/{name}/preview"): V,
    ("POST", "/flows/{name}/switch"): OP,
    ("POST", "/flows/{name}/run"): OP,
    ("POST", "/flows/{name}/dry-run"): OP,
    ("POST", "/flows/{name}/backfill"): OP,
    ("GET", "/runs"): V,
    ("GET", "/records"): V,
    ("GET", "/records/history"): V,
    ("GET", "/alerts"): V,
    ("POST", "/alerts"): A,
    ("POST", "/alerts/{rule_id}"): A,
    ("POST", "/alerts/{rule_id}/delete"): A,
    ("POST", "/alerts/{rule_id}/test"): OP,
    ("GET", "/audit"): V,
    ("GET", "/users"): V,
    ("POST", "/users"): A,
    ("POST", "/users/{user_id}/role"): A,
    ("POST", "/users/{user_id}/remove"): A,
    ("POST", "/tenants"): A,
    ("POST", "/tokens"): V,
    ("POST", "/tokens/{token_id}/revoke"): V,
    ("POST", "/account/password"): V,
}


def every_route() -> list[tuple[str, str]]:
    found = []
    for prefix, routers in (("/api", API_ROUTERS), ("", PAGE_ROUTERS)):
        for router in routers:
            for route in router.routes:
                path = prefix + route.path  # type: ignore[attr-defined]
                found += [(m, path) for m in sorted(route.methods - {"HEAD"})]  # type: ignore[attr-defined]
    return found


def fill(path: str, values: dict[str, Any]) -> str:
    return re.sub(r"\{(\w+)\}", lambda m: str(values.get(m.group(1), 999999)), path)


def token_for(world: World, user: str, tenant_id: int) -> dict[str, str]:
    with world.sessions.begin() as session:
        issued = Accounts(session).issue_token(tenant_id, "t", user_id=world.users[user])
        return {"Authorization": f"Bearer {issued.reveal()}"}


def call(
    client: TestClient,
    method: str,
    path: str,
    *,
    headers: dict[str, str],
    csrf: str,
    body: dict[str, Any] | None = None,
) -> int:
    if path.startswith("/api/"):
        kwargs: dict[str, Any] = {} if method in ("GET", "DELETE") else {"json": body or {}}
        return client.request(method, path, headers=headers, **kwargs).status_code
    if method == "GET":
        return client.get(path, follow_redirects=False).status_code
    form = {"csrf_token": csrf, **(body or {})}
    return client.post(path, data=form, follow_redirects=False).status_code


def test_every_route_is_in_the_matrix() -> None:
    assert set(every_route()) == set(MINIMUM) | PUBLIC


@pytest.mark.parametrize("role", [V, OP, A])
def test_role_matrix(world: World, client: TestClient, role: str) -> None:
    csrf = sign_in(client, f"{role}@acme.test")
    headers = token_for(world, role, world.acme)
    refused, admitted = [], []
    # Signing out would end the session the rest of the loop relies on: it goes last.
    for method, path in sorted(MINIMUM, key=lambda r: r[1] == "/logout"):
        status = call(client, method, fill(path, {"name": "nope"}), headers=headers, csrf=csrf)
        if RANK[role] < RANK[MINIMUM[(method, path)]]:
            refused.append((method, path, status))
        else:
            admitted.append((method, path, status))
    assert [r for r in refused if r[2] != 403] == []
    assert [a for a in admitted if a[2] in (401, 403) or a[2] >= 500] == []
    if role == V:
        assert len(refused) > 30


GX = "gx-marker"
FLOWS = f"""
flows:
  - name: {GX}
    source: {{connection: crm, entity: Account}}
    target: {{connection: erp, entity: Customer}}
"""


def seed_globex(world: World) -> dict[str, Any]:
    with world.sessions.begin() as session:
        ConfigVersions(session).save(world.globex, GX, FLOWS, author="gx")
        ConfigVersions(session).save(world.globex, "flows", FLOWS, author="gx")
        connection = Connection(
            tenant_id=world.globex, name=GX, system="d365", base_url="https://gx.example"
        )
        letter = DeadLetter(
            tenant_id=world.globex, flow=GX, record_key=GX, error_class="E", error_text=GX
        )
        rule = AlertRule(
            tenant_id=world.globex,
            name=GX,
            kind="staleness",
            channel="email",
            target="a@gx.example",
        )
        run = Run(tenant_id=world.globex, flow=GX, kind=RunKind.SCHEDULED)
        session.add_all([connection, letter, rule, run])
        session.add(
            RecordLogEntry(tenant_id=world.globex, flow=GX, record_key=GX, action="created")
        )
        session.flush()
        token = Accounts(session).issue_token(world.globex, GX, user_id=world.users["globex_admin"])
        return {
            "connection_id": connection.id,
            "letter_id": letter.id,
            "rule_id": rule.id,
            "run_id": run.id,
            "token_id": token.row.id,
            "user_id": world.users["globex_admin"],
            "name": GX,
            "version": 1,
        }


def body_for(method: str, path: str, ids: dict[str, Any]) -> dict[str, Any]:
    rule = {"name": "r", "kind": "staleness", "channel": "email", "target": "a@b.example"}
    bodies = {
        "/api/dead-letters/{letter_id}": {"overrides": {}},
        "/api/dead-letters/replay": {"ids": [ids["letter_id"]]},
        "/dead-letters/replay": {"ids": str(ids["letter_id"])},
        "/api/configs/{name}/rollback": {"to_version": 1},
        "/configs/{name}/rollback": {"to_version": "1"},
        "/api/flows/{name}/fields": {"fields": []},
        "/api/flows/{name}/preview": {"record": {}},
        "/api/flows/{name}/backfill": {"since": "2026-01-01T00:00:00Z"},
        "/flows/{name}/backfill": {"since": "2026-01-01T00:00"},
        "/api/alerts/{rule_id}": rule,
        "/alerts/{rule_id}": rule,
        "/api/users/{user_id}": {"role": "viewer"},
        "/users/{user_id}/role": {"role": "viewer"},
        "/dead-letters/{letter_id}/edit": {"overrides": "{}"},
    }
    return bodies.get(path, {}) if method != "GET" else {}


def test_another_tenants_ids_are_404_everywhere(world: World, client: TestClient) -> None:
    ids = seed_globex(world)
    csrf = sign_in(client, "admin@acme.test")
    headers = token_for(world, "admin", world.acme)
    leaks, answers = [], []
    for method, path in sorted(MINIMUM):
        query = {"flow": GX, "record_key": GX, "from": 1, "to": 1}
        target = fill(path, ids) + ("?" + "&".join(f"{k}={v}" for k, v in query.items()))
        body = body_for(method, path, ids)
        if path.endswith("/import"):
            continue  # names a new document of one's own tenant, not another tenant's
        if "{" in path or "ids" in body:
            answers.append(
                (method, path, call(client, method, target, headers=headers, csrf=csrf, body=body))
            )
        elif method == "GET":
            answer = client.get(target, headers=headers)
            if GX in answer.text and answer.status_code != 404:
                leaks.append(path)
    assert [a for a in answers if a[2] != 404 and a[1] != "/dead-letters/replay"] == []
    assert leaks == []
    with world.sessions() as session:
        letter = session.get(DeadLetter, ids["letter_id"])
        assert letter is not None
        assert letter.status is DeadLetterStatus.OPEN
        assert session.get(AlertRule, ids["rule_id"]) is not None
        assert Accounts(session).role_of(world.globex, ids["user_id"]) == "admin"
    assert world.engine.calls == []
