from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy.orm import Session, sessionmaker

from syncloom.engine.clock import FrozenClock
from syncloom.notify.alerts import AlertEvaluator, AlertKind
from syncloom.store import Accounts, make_engine, session_factory, upgrade
from syncloom.store.models import AlertRule, AlertState, Link, LinkState, Run, RunKind, RunStatus
from tests.notify.receivers import slack_receiver

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def database(tmp_path: Path) -> tuple[sessionmaker[Session], int]:
    url = f"sqlite:///{tmp_path / 'alerts.db'}"
    upgrade(url)
    sessions = session_factory(make_engine(url))
    with sessions.begin() as session:
        return sessions, Accounts(session).create_tenant("acme", "Acme").id


def add_rule(
    sessions: sessionmaker[Session], tenant_id: int, kind: AlertKind, url: str, **params: object
) -> None:
    with sessions.begin() as session:
        session.add(
            AlertRule(
                tenant_id=tenant_id,
                name=str(kind),
                kind=str(kind),
                params=params,
                channel="slack",
                target=url,
            )
        )


def fail_run(sessions: sessionmaker[Session], tenant_id: int, at: datetime) -> None:
    with sessions.begin() as session:
        session.add(
            Run(
                tenant_id=tenant_id,
                flow="accounts",
                kind=RunKind.SCHEDULED,
                status=RunStatus.FAILED,
                started_at=at,
            )
        )


def test_failed_runs_fire_once_per_episode(tmp_path: Path) -> None:
    sessions, tenant = database(tmp_path)
    clock = FrozenClock(NOW)
    with slack_receiver() as (url, receiver):
        add_rule(sessions, tenant, AlertKind.FAILED_RUNS, url, threshold=2, window_min=30)
        evaluator = AlertEvaluator(sessions, clock)
        fail_run(sessions, tenant, NOW - timedelta(minutes=5))
        assert evaluator.evaluate(tenant) == []
        fail_run(sessions, tenant, NOW - timedelta(minutes=1))
        assert evaluator.evaluate(tenant) == ["failed_runs"]
        assert evaluator.evaluate(tenant) == []
        clock.advance(timedelta(hours=1))
        assert evaluator.evaluate(tenant) == []
        fail_run(sessions, tenant, clock.now_utc())
        fail_run(sessions, tenant, clock.now_utc())
        assert evaluator.evaluate(tenant) == ["failed_runs"]
    assert len(receiver.posts) == 2
    assert "2 failed runs in all flows" in receiver.posts[0]["json"]["text"]
    with sessions() as session:
        state = session.query(AlertState).one()
        assert state.firing is True
        assert state.last_value == 2


def test_staleness_fires_when_nothing_synced_in_time(tmp_path: Path) -> None:
    sessions, tenant = database(tmp_path)
    clock = FrozenClock(NOW)
    with slack_receiver() as (url, receiver):
        add_rule(sessions, tenant, AlertKind.STALENESS, url, flow="accounts", minutes=30)
        with sessions.begin() as session:
            session.add(
                Link(
                    tenant_id=tenant,
                    flow="accounts",
                    crm_key="k",
                    state=LinkState.LINKED,
                    synced_at=NOW - timedelta(minutes=10),
                )
            )
        evaluator = AlertEvaluator(sessions, clock)
        assert evaluator.evaluate(tenant) == []
        clock.advance(timedelta(minutes=25))
        assert evaluator.evaluate(tenant) == ["staleness"]
    assert "no record of accounts synced in 30 minutes" in receiver.posts[0]["json"]["text"]
