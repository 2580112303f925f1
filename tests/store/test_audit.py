from __future__ import annotations

from syncloom.store import Accounts, AuditLog


def test_audit_log_records_actions_per_tenant(sessions, tenant):
    with sessions.begin() as session:
        other = Accounts(session).create_tenant(f"{tenant.slug}-3", "three")
        log = AuditLog(session)
        log.record(tenant.id, actor="ana", action="dead_letter.replay", target="dead_letter:1")
        log.record(
            tenant.id,
            actor="ana",
            action="connection.update",
            target="connection:2",
            delta={"base_url": ["https://a", "https://b"]},
        )
        log.record(other.id, actor="zed", action="config.rollback", target="flows")

    with sessions() as session:
        entries = AuditLog(session).entries(tenant.id)
    assert [e.action for e in entries] == ["connection.update", "dead_letter.replay"]
    assert entries[0].delta == {"base_url": ["https://a", "https://b"]}
    assert entries[0].created_at.tzinfo is not None
