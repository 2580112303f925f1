"""An engine whose workers run elsewhere: the portal answers 202 with a job and follows it.

The engine here keeps what it is asked, as ``syncloom web``'s queued control does, and
answers :class:`Queued`; ``tests/scale/test_web_actions.py`` runs the real one against a real
worker process.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from fastapi.testclient import TestClient

from syncloom.portal.control import JobView, Queued
from syncloom.store import AuditLog
from syncloom.store.config_versions import ConfigVersions
from tests.portal.fixtures import World
from tests.portal.test_dead_letters import park, status_of
from tests.portal.test_flows import DOCUMENT


@dataclass
class QueuingEngine:
    """Queues every action: each gets a job id, which ``job`` answers for its tenant only."""

    jobs: dict[str, tuple[int, str]] = field(default_factory=dict)

    def _queue(self, tenant_id: int, what: str) -> str:
        job = f"action:{tenant_id}:{what}:{len(self.jobs) + 1}"
        self.jobs[job] = (tenant_id, what)
        return job

    def run_now(self, tenant_id: int, flow: str) -> str:
        return self._queue(tenant_id, "run")

    def dry_run(self, tenant_id: int, flow: str) -> Queued:
        return Queued(self._queue(tenant_id, "dry-run"))

    def backfill(self, tenant_id: int, flow: str, since: datetime) -> str:
        return self._queue(tenant_id, "backfill")

    def replay(self, tenant_id: int, dead_letter_ids: Sequence[int]) -> Queued:
        return Queued(self._queue(tenant_id, "replay"))

    def test_connection(self, tenant_id: int, connection_id: int) -> tuple[bool, str]:
        return True, "signed in"

    def job(self, tenant_id: int, job: str) -> JobView | None:
        owner = self.jobs.get(job)
        if owner is None or owner[0] != tenant_id:
            return None
        result: Any = {"flow": "accounts"} if owner[1] == "dry-run" else None
        return JobView(job, "SUCCESS", result)


def _queuing(world: World) -> QueuingEngine:
    engine = QueuingEngine()
    world.deps.engine = engine
    with world.sessions.begin() as session:
        ConfigVersions(session).save(world.acme, "flows", DOCUMENT, author="seed")
    return engine


def test_a_queued_dry_run_answers_202_with_its_job_and_the_job_holds_the_report(
    world: World, client: TestClient, admin: str
) -> None:
    _queuing(world)
    headers = {"X-CSRF-Token": admin}
    answer = client.post("/api/flows/accounts/dry-run", headers=headers)
    assert answer.status_code == 202
    job = answer.json()["job"]
    followed = client.get(f"/api/jobs/{job}")
    assert followed.json() == {"job": job, "state": "SUCCESS", "result": {"flow": "accounts"},
                               "error": None}  # fmt: skip
    page = client.post("/flows/accounts/dry-run", data={"csrf_token": admin})
    assert "queued for accounts; a worker runs it" in page.text


def test_a_queued_replay_answers_202_leaves_the_letter_to_the_worker_and_audits_the_ask(
    world: World, client: TestClient, admin: str
) -> None:
    _queuing(world)
    letter_id = park(world, world.acme)
    answer = client.post(f"/api/dead-letters/{letter_id}/replay", headers={"X-CSRF-Token": admin})
    assert answer.status_code == 202
    assert answer.json()["replayed"] == []
    assert answer.json()["job"].startswith(f"action:{world.acme}:replay:")
    assert status_of(world, letter_id).value == "open"  # the worker marks it when it runs
    with world.sessions() as session:
        entries = AuditLog(session).entries(world.acme)
        assert any(e.action == "dead_letter.replay" for e in entries)


def test_a_job_of_another_tenant_is_not_found(world: World, client: TestClient, admin: str) -> None:
    engine = _queuing(world)
    other = engine.run_now(world.globex, "accounts")
    assert client.get(f"/api/jobs/{other}").status_code == 404
