"""``syncloom web`` alone hands run now, dry run, backfill and replay to a ``syncloom worker``.

Both are real processes on one PostgreSQL database: the portal has no worker in it, answers
202 with a job id, and the job is run by the worker (its executor id says so in the runtime's
table). An action asked while no worker is up waits in the queue, and runs once one starts.
"""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
import sqlalchemy as sa

from syncloom.connectors.creatio import CreatioConnector
from syncloom.engine.clock import SystemClock
from syncloom.engine.dead_letters import DeadLetterQueue
from syncloom.store.accounts import Accounts
from syncloom.store.models import DeadLetter, DeadLetterStatus, RoleName, Tenant
from tests.scale.cluster import HOOK_SECRET, Cluster, cluster, wait_for

pytestmark = [pytest.mark.e2e, pytest.mark.pg]

RECORDS = 20
DEADLINE_S = 120.0


def _token(world: Cluster, slug: str, email: str) -> str:
    """An operator's API token in tenant ``slug`` (created when missing)."""
    with world.sessions.begin() as session:
        accounts = Accounts(session)
        tenant = session.scalar(sa.select(Tenant).where(Tenant.slug == slug))
        if tenant is None:
            tenant = accounts.create_tenant(slug, slug.title())
        user = accounts.create_user(email, "correct horse battery staple")
        accounts.grant(tenant.id, user.id, RoleName.OPERATOR)
        return accounts.issue_token(tenant.id, "ops", user_id=user.id).reveal()


def _portal(world: Cluster, base_url: str, token: str) -> httpx.Client:
    client = httpx.Client(base_url=base_url, headers={"Authorization": f"Bearer {token}"})

    def up() -> bool:
        try:
            return client.get("/api/flows").status_code == 200
        except httpx.TransportError:
            return False

    wait_for(up, world, DEADLINE_S, "the portal to answer")
    return client


def _follow(world: Cluster, portal: httpx.Client, job: str) -> dict[str, Any]:
    """Poll ``/api/jobs/{job}`` until the job has ended; returns its last answer."""

    def ended() -> dict[str, Any] | None:
        answer = portal.get(f"/api/jobs/{job}")
        assert answer.status_code == 200, answer.text
        body: dict[str, Any] = answer.json()
        return body if body["state"] not in ("ENQUEUED", "PENDING") else None

    found: dict[str, Any] = wait_for(ended, world, DEADLINE_S, f"job {job} to end")
    return found


def _executor_of(world: Cluster, job: str) -> str:
    query = sa.text("SELECT executor_id FROM dbos.workflow_status WHERE workflow_uuid = :id")
    with world.sessions() as session:
        return str(session.scalar(query, {"id": job}))


def _park(world: Cluster) -> int:
    """A dead letter for the first Account, as a failed record job leaves one."""
    with world.sessions() as session:
        tenant_id = session.scalar(sa.select(Tenant.id).where(Tenant.slug == "acme"))
        key = session.scalar(sa.text("SELECT crm_key FROM identity_links ORDER BY crm_key LIMIT 1"))
    queue = DeadLetterQueue(world.sessions, int(tenant_id), SystemClock(), world.vault())
    return queue.park(
        flow="accounts",
        record_key=str(key),
        payload={"key": str(key), "reason": "validation"},
        error_class="PermanentError",
        error_text="NAME is required",
        attempts=1,
    )


def test_the_portal_alone_hands_every_action_to_a_worker(pg_url, tmp_path):
    with cluster(pg_url, tmp_path, records=RECORDS) as world:
        portal = _portal(world, world.start_web(), _token(world, "acme", "ops@acme.test"))

        # No worker yet: the run is accepted and waits in the queue, durably.
        asked = portal.post("/api/flows/accounts/run")
        assert asked.status_code == 202, asked.text
        run = asked.json()["run"]
        time.sleep(1.0)
        assert portal.get(f"/api/jobs/{run}").json()["state"] == "ENQUEUED"

        world.start_worker("w1")
        polled = _follow(world, portal, run)
        assert polled["state"] == "SUCCESS", polled
        assert polled["result"]["read"] >= 1
        assert _executor_of(world, run) == "w1"

        dry = portal.post("/api/flows/accounts/dry-run")
        assert dry.status_code == 202, dry.text
        report = _follow(world, portal, dry.json()["job"])
        assert report["state"] == "SUCCESS", report
        assert report["result"]["flow"] == "accounts"

        since = datetime(2020, 1, 1, tzinfo=UTC).isoformat()
        backfill = portal.post("/api/flows/accounts/backfill", json={"since": since})
        assert backfill.status_code == 202, backfill.text
        loaded = _follow(world, portal, backfill.json()["run"])
        assert loaded["state"] == "SUCCESS", loaded
        assert _executor_of(world, backfill.json()["run"]) == "w1"

        wait_for(lambda: world.linked() >= RECORDS, world, DEADLINE_S, "every account linked")
        letter_id = _park(world)
        replay = portal.post(f"/api/dead-letters/{letter_id}/replay")
        assert replay.status_code == 202, replay.text
        replayed = _follow(world, portal, replay.json()["job"])
        assert replayed["state"] == "SUCCESS", replayed
        (record_job,) = replayed["result"]
        with world.sessions() as session:
            assert session.get(DeadLetter, letter_id).status is DeadLetterStatus.REPLAYED
        wait_for(
            lambda: _executor_of(world, record_job) == "w1", world, DEADLINE_S, "the record job"
        )


def test_a_tenant_cannot_follow_another_tenants_job(pg_url, tmp_path):
    with cluster(pg_url, tmp_path, records=1) as world:
        base_url = world.start_web()
        acme = _portal(world, base_url, _token(world, "acme", "ops@acme.test"))
        globex = _portal(world, base_url, _token(world, "globex", "ops@globex.test"))
        asked = acme.post("/api/flows/accounts/run")
        assert asked.status_code == 202, asked.text
        run = asked.json()["run"]
        assert acme.get(f"/api/jobs/{run}").status_code == 200
        assert globex.get(f"/api/jobs/{run}").status_code == 404


def _webhook_jobs(world: Cluster, crm_key: str) -> list[tuple[str, str]]:
    """Record jobs made from a pushed hint (its id carries the bare modified-on; a poll's job
    id adds a hash of the values after ``#``): (status, executor) each."""
    query = sa.text(
        "SELECT status, executor_id FROM dbos.workflow_status WHERE name = 'syncloom.sync_record'"
        " AND workflow_uuid LIKE :prefix AND workflow_uuid NOT LIKE '%#%'"
    )
    with world.sessions() as session:
        rows = session.execute(query, {"prefix": f"sync:%|accounts|{crm_key}@%"})
        return [(str(status), str(executor)) for status, executor in rows]


def test_a_webhook_to_the_portal_alone_is_synced_by_a_worker(pg_url, tmp_path):
    with cluster(pg_url, tmp_path, records=5) as world:
        base_url = world.start_web()
        _portal(world, base_url, _token(world, "acme", "ops@acme.test"))
        world.start_worker("w1")
        wait_for(lambda: world.linked() >= 5, world, DEADLINE_S, "every account linked")
        hook = {"url": f"{base_url}/hooks/acme/crm", "secret": HOOK_SECRET, "entities": ["Account"]}
        httpx.post(f"{world.crm_url}/_sim/webhooks", json=hook).raise_for_status()
        with world.sessions() as session:
            crm_key = str(
                session.scalar(sa.text("SELECT crm_key FROM identity_links ORDER BY crm_key"))
            )

        async def edit() -> None:
            crm = CreatioConnector(world.crm_url, username="Supervisor", password="Supervisor")
            try:
                await crm.update("Account", crm_key.rsplit(":", 1)[1], {"Name": "Pushed"})
            finally:
                await crm.aclose()

        asyncio.run(edit())
        # The portal stored the hint and queued its job; the worker ran it.
        ran = wait_for(
            lambda: [job for job in _webhook_jobs(world, crm_key) if job[0] == "SUCCESS"],
            world,
            DEADLINE_S,
            "the pushed hint's record job",
        )
        assert ran[0] == ("SUCCESS", "w1")
