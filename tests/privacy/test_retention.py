"""Retention: history older than the tenant's period is purged, and the purge is audited."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import update

from syncloom.engine.clock import FrozenClock
from syncloom.engine.dead_letters import DeadLetterQueue
from syncloom.engine.privacy import PRIVACY_DOCUMENT, purge, retention_of
from syncloom.engine.record_log import RecordLog
from syncloom.errors import ConfigError
from syncloom.store.audit import AuditLog
from syncloom.store.config_versions import ConfigVersions
from syncloom.store.models import Connection, DeadLetter, IntakeEvent, IntakeStatus, RecordLogEntry

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
OLD = NOW - timedelta(days=100)
RECENT = NOW - timedelta(days=1)


def _log(store, tenant_id: int, key: str, at: datetime) -> None:
    log = RecordLog(store.sessions, tenant_id, store.vault)
    with store.sessions.begin() as session:
        log.add(session, flow="contacts", record_key=key, action="updated", diff={"k": key})
        session.flush()
        session.execute(
            update(RecordLogEntry).where(RecordLogEntry.record_key == key).values(created_at=at)
        )


def _letter(store, tenant_id: int, key: str, at: datetime, *, closed: bool) -> int:
    queue = DeadLetterQueue(store.sessions, tenant_id, FrozenClock(at), store.vault)
    letter_id = queue.park(
        flow="contacts", record_key=key, payload={"k": key}, error_class="E", error_text="e",
        attempts=1,
    )  # fmt: skip
    if closed:
        queue.dismiss(letter_id)
    with store.sessions.begin() as session:
        session.execute(update(DeadLetter).where(DeadLetter.id == letter_id).values(created_at=at))
    return letter_id


def _hint(store, tenant_id: int, key: str, at: datetime) -> None:
    with store.sessions.begin() as session:
        connection = Connection(tenant_id=tenant_id, name=key, system="creatio", base_url="x")
        session.add(connection)
        session.flush()
        session.add(
            IntakeEvent(
                tenant_id=tenant_id, connection_id=connection.id, body="{}", digest=key,
                record_key=key, status=IntakeStatus.DONE, received_at=at, created_at=at,
            )
        )  # fmt: skip


def _keys(store, model) -> set[tuple[int, str]]:  # type: ignore[no-untyped-def]
    with store.sessions() as session:
        return {(row.tenant_id, row.record_key) for row in session.query(model)}


def test_purge_removes_old_history_and_closed_letters_only(store):
    t = store.tenant_id
    _log(store, t, "old", OLD)
    _log(store, t, "recent", RECENT)
    _log(store, store.other_tenant_id, "other-old", OLD)
    _letter(store, t, "old-closed", OLD, closed=True)
    _letter(store, t, "old-open", OLD, closed=False)
    _letter(store, t, "recent-closed", RECENT, closed=True)
    _hint(store, t, "old-hint", OLD)
    _hint(store, t, "recent-hint", RECENT)

    report = purge(store.sessions, t, NOW, timedelta(days=90), actor="ops@acme.test")

    assert (report.record_log, report.dead_letters) == (1, 1)
    assert report.cutoff == NOW - timedelta(days=90)
    assert _keys(store, RecordLogEntry) == {(t, "recent"), (store.other_tenant_id, "other-old")}
    assert _keys(store, DeadLetter) == {(t, "old-open"), (t, "recent-closed")}
    with store.sessions() as session:
        (entry,) = AuditLog(session).entries(t)
    assert entry.action == "privacy.purge"
    assert entry.actor == "ops@acme.test"
    assert entry.delta == {"record_log": [1, 0], "dead_letters": [1, 0], "intake_events": [1, 0]}
    assert _keys(store, IntakeEvent) == {(t, "recent-hint")}
    # What is kept still opens.
    (kept,) = RecordLog(store.sessions, t, store.vault).history("contacts", "recent")
    assert kept.diff == {"k": "recent"}


def _save(store, text: str) -> None:
    with store.sessions.begin() as session:
        ConfigVersions(session).save(store.tenant_id, PRIVACY_DOCUMENT, text, author="test")


def test_retention_comes_from_the_tenant_privacy_document(store):
    assert retention_of(store.sessions, store.tenant_id) is None
    _save(store, "retention_days: 30\n")
    assert retention_of(store.sessions, store.tenant_id) == timedelta(days=30)
    assert retention_of(store.sessions, store.other_tenant_id) is None
    _save(store, "retention_days: -3\n")
    with pytest.raises(ConfigError, match="retention_days"):
        retention_of(store.sessions, store.tenant_id)


def test_the_portal_shows_sealed_payloads_opened(store):
    from syncloom.portal import history
    from syncloom.portal.dead_letters import DeadLetterView, find_letter

    _log(store, store.tenant_id, "k1", RECENT)
    letter_id = _letter(store, store.tenant_id, "k1", RECENT, closed=False)
    with store.sessions() as session:
        (entry,) = history.list_entries(
            session, store.tenant_id, history.RecordFilter(), store.vault
        )
        view = DeadLetterView.of(find_letter(session, store.tenant_id, letter_id), store.vault)
        raw = find_letter(session, store.tenant_id, letter_id).payload
    assert [change.field for change in entry.changes] == ["k"]
    assert view.payload == {"k": "k1"}
    assert set(raw) == {"sealed"}
