"""Stored hints end done or failed when their record job ends, and go by retention."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from syncloom.engine import intake_events
from syncloom.store import make_engine, session_factory, upgrade
from syncloom.store.accounts import Accounts
from syncloom.store.models import Connection, IntakeEvent, IntakeStatus

T0 = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
KEY = "creatio:Account:1"


@pytest.fixture
def store(tmp_path):
    url = f"sqlite:///{tmp_path / 'hints.db'}"
    upgrade(url)
    sessions = session_factory(make_engine(url))
    with sessions.begin() as session:
        tenant = Accounts(session).create_tenant("acme", "Acme").id
        connection = Connection(tenant_id=tenant, name="crm", system="creatio", base_url="x")
        session.add(connection)
        session.flush()
        return sessions, tenant, connection.id


def _hint(store, key: str, at: datetime, status=IntakeStatus.ENQUEUED) -> int:
    sessions, tenant, connection = store
    with sessions.begin() as session:
        row = IntakeEvent(
            tenant_id=tenant, connection_id=connection, body="{}", digest=f"{key}{at}",
            record_key=key, status=status, received_at=at, created_at=at,
        )  # fmt: skip
        session.add(row)
        session.flush()
        return row.id


def _states(store) -> dict[int, tuple[str, str | None]]:
    sessions, _, _ = store
    with sessions() as session:
        rows = session.scalars(sa.select(IntakeEvent).order_by(IntakeEvent.id))
        return {row.id: (row.status.value, row.outcome) for row in rows}


def _settle(store, key: str, started: datetime, outcome: str | None = None) -> int:
    sessions, tenant, _ = store
    with sessions.begin() as session:
        return intake_events.settle(
            session, tenant, key, covered_before=started, now=started, outcome=outcome
        )


def test_a_finished_job_settles_the_hints_it_covered_and_no_later_one(store):
    before = _hint(store, KEY, T0)
    also_before = _hint(store, KEY, T0 + timedelta(seconds=1))
    after = _hint(store, KEY, T0 + timedelta(seconds=5))
    other_record = _hint(store, "creatio:Account:2", T0)
    assert _settle(store, KEY, T0 + timedelta(seconds=2)) == 2
    states = _states(store)
    assert states[before] == states[also_before] == ("done", None)
    assert states[after] == ("enqueued", None), "a hint after the read waits for its own job"
    assert states[other_record] == ("enqueued", None)


def test_a_parked_job_fails_its_hints_with_the_outcome(store):
    hint = _hint(store, KEY, T0)
    assert _settle(store, KEY, T0, "ValidationError: parked for dead letter") == 1
    assert _states(store)[hint] == ("failed", "ValidationError: parked for dead letter")
    assert _settle(store, KEY, T0 + timedelta(hours=1)) == 0, "a settled hint stays settled"


def test_retention_purges_old_hints_settled_or_orphaned(store):
    sessions, tenant, _ = store
    old_done = _hint(store, KEY, T0 - timedelta(days=100), IntakeStatus.DONE)
    old_orphan = _hint(store, "creatio:Account:3", T0 - timedelta(days=100))
    recent = _hint(store, KEY, T0 - timedelta(days=1), IntakeStatus.DONE)
    with sessions.begin() as session:
        assert intake_events.purge(session, tenant, T0 - timedelta(days=90)) == 2
    remaining = _states(store)
    assert old_done not in remaining
    assert old_orphan not in remaining
    assert recent in remaining
