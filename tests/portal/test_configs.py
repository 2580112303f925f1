from __future__ import annotations

import textwrap

from fastapi.testclient import TestClient

from syncloom.store import AuditLog, ConfigVersions
from tests.portal.fixtures import World

FLOWS_V1 = textwrap.dedent(
    """
    flows:
      - name: accounts
        source: {connection: crm, entity: Account}
        target: {connection: erp, entity: Customer}
        fields:
          - {source: Name, target: CustomerName}
    """
)
FLOWS_V2 = FLOWS_V1.replace(
    "CustomerName}", "CustomerName}\n      - {source: Phone, target: PhoneNo}"
)


def save(world: World, text: str, comment: str = "") -> int:
    with world.sessions.begin() as session:
        return (
            ConfigVersions(session)
            .save(world.acme, "flows", text, author="admin@acme.test", comment=comment)
            .version
        )


def test_history_diff_and_rollback(world: World, client: TestClient, admin: str) -> None:
    save(world, FLOWS_V1, "first")
    save(world, FLOWS_V2, "add phone")
    history = client.get("/configs/flows")
    assert "add phone" in history.text
    diff = client.get("/api/configs/flows/diff", params={"from": 1, "to": 2}).json()
    added = [line["text"] for line in diff if line["kind"] == "add"]
    assert added == ["+      - {source: Phone, target: PhoneNo}"]
    page = client.get("/configs/flows/diff?from=1&to=2")
    assert 'class="diff-add"' in page.text
    rolled = client.post("/configs/flows/rollback", data={"to_version": "1", "csrf_token": admin})
    assert "Rolled flows back to version 1 (saved as version 3)." in rolled.text
    newest = client.get("/api/configs/flows/versions/3").json()
    assert newest["document"] == FLOWS_V1
    assert newest["restored_from"] == 1
    with world.sessions() as session:
        assert AuditLog(session).entries(world.acme)[0].action == "config.rollback"


def test_export_and_import_round_trip(world: World, client: TestClient, admin: str) -> None:
    save(world, FLOWS_V1)
    exported = client.get("/api/configs/flows/export")
    assert exported.headers["content-type"].startswith("application/yaml")
    assert exported.text == FLOWS_V1
    imported = client.post(
        "/api/configs/flows/import",
        json={"document": FLOWS_V2, "comment": "from git"},
        headers={"X-CSRF-Token": admin},
    )
    assert imported.status_code == 201
    assert imported.json()["version"] == 2


def test_import_names_each_problem_and_saves_nothing(
    world: World, client: TestClient, admin: str
) -> None:
    broken = FLOWS_V1.replace("direction", "x").replace(
        "fields:", "conflict: sometimes\n    fields:"
    )
    answer = client.post(
        "/api/configs/flows/import", json={"document": broken}, headers={"X-CSRF-Token": admin}
    )
    assert answer.status_code == 422
    assert answer.json()["detail"][0]["field"] == "document.flows[0].conflict"
    page = client.post(
        "/configs/import", data={"name": "flows", "document": broken, "csrf_token": admin}
    )
    assert page.status_code == 422
    assert "document.flows[0].conflict" in page.text
    with world.sessions() as session:
        assert ConfigVersions(session).latest(world.acme, "flows") is None


def test_unknown_versions_are_404(client: TestClient, admin: str) -> None:
    assert client.get("/api/configs/flows/versions/9").status_code == 404
    assert client.get("/api/configs/flows/export").status_code == 404
    assert client.get("/configs/flows").status_code == 404


def test_import_by_file_upload(world: World, client: TestClient, admin: str) -> None:
    page = client.post(
        "/configs/import",
        data={"name": "flows", "comment": "from disk", "csrf_token": admin},
        files={"file": ("flows.yaml", FLOWS_V1.encode(), "application/yaml")},
    )
    assert "Imported flows as version 1." in page.text
    with world.sessions() as session:
        latest = ConfigVersions(session).latest(world.acme, "flows")
        assert latest is not None
        assert (latest.document, latest.comment) == (FLOWS_V1, "from disk")
