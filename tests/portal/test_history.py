from __future__ import annotations

from fastapi.testclient import TestClient

from syncloom.store.models import Link, LinkState, RecordLogEntry, Run, RunKind, RunStatus
from tests.portal.fixtures import World

KEY = "creatio:Account:a1"


def seed(world: World, tenant_id: int) -> int:
    with world.sessions.begin() as session:
        run = Run(
            tenant_id=tenant_id,
            flow="accounts",
            kind=RunKind.SCHEDULED,
            status=RunStatus.SUCCEEDED,
            counts={"updated": 1},
        )
        session.add(run)
        session.flush()
        session.add_all(
            [
                RecordLogEntry(
                    tenant_id=tenant_id,
                    flow="accounts",
                    record_key=KEY,
                    run_id=run.id,
                    action="created",
                    diff={"CustomerName": [None, "ACME"]},
                ),
                RecordLogEntry(
                    tenant_id=tenant_id,
                    flow="accounts",
                    record_key=KEY,
                    run_id=run.id,
                    action="updated",
                    attempt=2,
                    diff={
                        "Phone": {"old": "1", "new": "2", "winner": "erp", "reason": "newest_wins"}
                    },
                ),
                RecordLogEntry(
                    tenant_id=tenant_id,
                    flow="accounts",
                    record_key="creatio:Account:b2",
                    action="failed",
                    error="ValidationError: bad country",
                ),
                Link(
                    tenant_id=tenant_id,
                    flow="accounts",
                    crm_key=KEY,
                    erp_key="intacct:CUSTOMER:C-1",
                    state=LinkState.LINKED,
                ),
            ]
        )
        return run.id


def test_runs_and_record_log_filter(world: World, client: TestClient, admin: str) -> None:
    run_id = seed(world, world.acme)
    runs = client.get("/api/runs", params={"status": "succeeded"}).json()
    assert [r["id"] for r in runs] == [run_id]
    assert client.get("/api/runs", params={"status": "failed"}).json() == []
    errors = client.get("/api/records", params={"errors_only": "true"}).json()
    assert [e["record_key"] for e in errors] == ["creatio:Account:b2"]
    by_run = client.get("/api/records", params={"run_id": run_id}).json()
    assert [e["action"] for e in by_run] == ["updated", "created"]
    assert "bad country" in client.get("/records?errors_only=true").text
    assert client.get("/api/runs", params={"status": "sideways"}).status_code == 422


def test_record_history_shows_diffs_and_lineage(
    world: World, client: TestClient, admin: str
) -> None:
    seed(world, world.acme)
    found = client.get("/api/records/history", params={"flow": "accounts", "record_key": KEY})
    body = found.json()
    assert body["links"][0]["erp_key"] == "intacct:CUSTOMER:C-1"
    phone = body["entries"][0]["changes"][0]
    assert (phone["old"], phone["new"]) == ("1", "2")
    assert "newest_wins" in phone["note"]
    page = client.get("/records/history", params={"flow": "accounts", "record_key": KEY})
    assert "intacct:CUSTOMER:C-1" in page.text
    assert '<td class="diff-add"><code>ACME</code></td>' in page.text


def test_another_tenants_history_is_404(world: World, client: TestClient, admin: str) -> None:
    run_id = seed(world, world.globex)
    assert client.get(f"/api/runs/{run_id}").status_code == 404
    params = {"flow": "accounts", "record_key": KEY}
    assert client.get("/api/records/history", params=params).status_code == 404
    assert client.get("/api/records").json() == []
