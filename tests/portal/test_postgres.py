"""The portal on PostgreSQL: per-hour counts in SQL, immutable versions, tenant scoping."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient

from syncloom.engine.clock import FrozenClock
from syncloom.portal import create_app
from syncloom.store import ConfigVersions
from syncloom.store.models import DeadLetter, RecordLogEntry
from tests.portal.fixtures import World, build_world_at, sign_in
from tests.store.databases import fresh_pg_schema

pytestmark = pytest.mark.pg

NOW = datetime(2026, 3, 1, 12, 30, tzinfo=UTC)
FLOWS = (
    "flows:\n  - {name: a, source: {connection: c, entity: A},"
    " target: {connection: e, entity: B}}\n"
)


@pytest.fixture
def pg_world(pg_url: str) -> Iterator[World]:
    with fresh_pg_schema(pg_url) as url:
        world = build_world_at(url)
        yield world
        world.sessions.kw["bind"].dispose()


def test_dashboard_counts_hours_in_postgresql(pg_world: World) -> None:
    pg_world.deps.clock = FrozenClock(NOW)
    with pg_world.sessions.begin() as session:
        for minutes, error in ((1, None), (2, None), (3, "boom"), (65, None)):
            session.add(
                RecordLogEntry(
                    tenant_id=pg_world.acme,
                    flow="a",
                    record_key="k",
                    action="x",
                    error=error,
                    created_at=NOW - timedelta(minutes=minutes),
                )
            )
    with TestClient(create_app(pg_world.deps)) as client:
        sign_in(client, "viewer@acme.test")
        hours = client.get("/api/dashboard").json()["hours"]
    assert (hours[-1]["synced"], hours[-1]["errors"]) == (2, 1)
    assert hours[-2]["synced"] == 1


def test_rollback_and_cross_tenant_on_postgresql(pg_world: World) -> None:
    with pg_world.sessions.begin() as session:
        ConfigVersions(session).save(pg_world.acme, "flows", FLOWS, author="seed")
        ConfigVersions(session).save(pg_world.acme, "flows", FLOWS + "# two\n", author="seed")
        letter = DeadLetter(
            tenant_id=pg_world.globex, flow="a", record_key="k", error_class="E", error_text="t"
        )
        session.add(letter)
        session.flush()
        letter_id = letter.id
    with TestClient(create_app(pg_world.deps)) as client:
        csrf = sign_in(client, "admin@acme.test")
        headers = {"X-CSRF-Token": csrf}
        rolled = client.post("/api/configs/flows/rollback", json={"to_version": 1}, headers=headers)
        assert rolled.json()["version"] == 3
        assert client.get(f"/api/dead-letters/{letter_id}").status_code == 404
        assert (
            client.post(f"/api/dead-letters/{letter_id}/dismiss", headers=headers).status_code
            == 404
        )
