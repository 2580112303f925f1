from __future__ import annotations

from fastapi.testclient import TestClient

from syncloom.notify import SmtpRelay
from syncloom.store import AuditLog
from tests.notify.receivers import slack_receiver, smtp_inbox, wait_for
from tests.portal.fixtures import World


def test_email_rule_and_its_test_button(world: World, client: TestClient, admin: str) -> None:
    with smtp_inbox() as (port, messages):
        world.deps.smtp = SmtpRelay("127.0.0.1", port)
        page = client.post(
            "/alerts",
            data={
                "name": "runs",
                "kind": "failed_runs",
                "threshold": "3",
                "channel": "email",
                "target": "ops@acme.test",
                "enabled": "true",
                "csrf_token": admin,
            },
        )
        assert "Alert rule runs saved." in page.text
        rule_id = client.get("/api/alerts").json()[0]["id"]
        tested = client.post(f"/alerts/{rule_id}/test", data={"csrf_token": admin})
        assert "Test alert sent: test alert sent by email" in tested.text
        wait_for(lambda: len(messages) == 1)
    assert messages[0]["To"] == "ops@acme.test"
    assert messages[0]["Subject"] == "syncloom test alert: runs"


def test_slack_rule_hides_its_webhook_and_reports_refusal(
    world: World, client: TestClient, admin: str
) -> None:
    headers = {"X-CSRF-Token": admin}
    with slack_receiver() as (url, receiver):
        body = {"name": "dlq", "kind": "dead_letter_growth", "channel": "slack", "target": url}
        created = client.post("/api/alerts", json=body, headers=headers)
        assert created.status_code == 201
        assert "secretpart" not in created.text
        rule_id = created.json()["id"]
        ok = client.post(f"/api/alerts/{rule_id}/test", headers=headers).json()
        assert ok == {"ok": True, "message": "test alert sent by slack"}
        receiver.status = 500
        failed = client.post(f"/api/alerts/{rule_id}/test", headers=headers).json()
        assert failed["ok"] is False
        assert "500" in failed["message"]
    assert receiver.posts[0]["json"]["text"].startswith("*syncloom test alert: dlq*")
    with world.sessions() as session:
        assert AuditLog(session).entries(world.acme)[0].action == "alert.create"


def test_target_must_fit_the_channel(client: TestClient, admin: str) -> None:
    body = {"name": "x", "kind": "staleness", "channel": "email", "target": "https://hooks.example"}
    answer = client.post("/api/alerts", json=body, headers={"X-CSRF-Token": admin})
    assert answer.status_code == 422
    assert answer.json()["detail"][0]["field"] == "body.target"
    page = client.post("/alerts", data=dict(body, csrf_token=admin))
    assert page.status_code == 422
    assert "an email channel needs an email address" in page.text
    assert client.get("/api/alerts").json() == []
