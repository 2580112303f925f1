"""Erasure: one person's data leaves the record log, dead letters, ledger and link snapshots."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from syncloom.engine.clock import SystemClock
from syncloom.engine.dead_letters import DeadLetterQueue
from syncloom.engine.erasure import erase
from syncloom.engine.record_log import RecordLog
from syncloom.errors import ConfigError
from syncloom.store.audit import AuditLog
from syncloom.store.models import (
    DeadLetter,
    Link,
    LinkState,
    RecordLogEntry,
    WriteLedgerEntry,
)

ADA_CRM, ADA_ERP = "creatio:Contact:c1", "intacct:CONTACT:K1"
BOB_CRM, BOB_ERP = "creatio:Contact:c2", "intacct:CONTACT:K2"
ADA = "ada.lovelace@example.com"


def _seed(store, tenant_id: int) -> None:
    log = RecordLog(store.sessions, tenant_id, store.vault)
    queue = DeadLetterQueue(store.sessions, tenant_id, SystemClock(), store.vault)
    with store.sessions.begin() as session:
        for crm, erp, email in ((ADA_CRM, ADA_ERP, ADA), (BOB_CRM, BOB_ERP, "bob@example.com")):
            session.add(
                Link(
                    tenant_id=tenant_id, flow="contacts", crm_key=crm, erp_key=erp,
                    state=LinkState.LINKED, base_snapshot={"EMAIL1": email}, crm_hash="h",
                    erp_hash="h",
                )
            )  # fmt: skip
            log.add(
                session,
                flow="contacts",
                record_key=crm,
                action="created",
                diff={"created": {"EMAIL1": email}},
            )
            for key in (crm, erp):
                session.add(
                    WriteLedgerEntry(
                        tenant_id=tenant_id, system=key.split(":")[0], record_key=key,
                        values_hash="h",
                    )
                )  # fmt: skip
    queue.park(
        flow="contacts", record_key=ADA_CRM, payload={"overrides": {"EMAIL1": ADA.upper()}},
        error_class="ValidationError", error_text="refused", attempts=1,
    )  # fmt: skip


def _rows(store, tenant_id: int) -> dict[str, set[str]]:
    def keys(model) -> set[str]:  # type: ignore[no-untyped-def]
        return {row.record_key for row in session.query(model).filter_by(tenant_id=tenant_id)}

    with store.sessions() as session:
        links = session.query(Link).filter_by(tenant_id=tenant_id).all()
        return {
            "log": keys(RecordLogEntry),
            "letters": keys(DeadLetter),
            "ledger": keys(WriteLedgerEntry),
            "snapshots": {str(link.crm_key) for link in links if link.base_snapshot},
            "links": {str(link.crm_key) for link in links},
        }


def test_erase_by_email_finds_the_person_in_sealed_payloads_and_removes_them(store):
    t = store.tenant_id
    _seed(store, t)
    _seed(store, store.other_tenant_id)

    report = erase(store.sessions, t, store.vault, email=" Ada.Lovelace@Example.com ".strip())

    assert set(report.record_keys) == {ADA_CRM, ADA_ERP}
    assert (report.record_log, report.dead_letters, report.ledger, report.links) == (1, 1, 2, 1)
    rows = _rows(store, t)
    assert rows["log"] == {BOB_CRM}
    assert rows["letters"] == set()
    assert rows["ledger"] == {BOB_CRM, BOB_ERP}
    assert rows["snapshots"] == {BOB_CRM}
    assert rows["links"] == {ADA_CRM, BOB_CRM}, "the link stays, or the next sync would duplicate"
    assert _rows(store, store.other_tenant_id)["log"] == {ADA_CRM, BOB_CRM}
    with store.sessions() as session:
        (entry,) = AuditLog(session).entries(t)
        assert entry.action == "privacy.erase"
        assert entry.target.startswith("email-sha256:")
        assert "ada" not in str(entry.target).lower() + str(entry.delta).lower()
        assert entry.delta["record_log"] == [1, 0]


def test_erase_by_record_key_takes_the_twin_too(store):
    t = store.tenant_id
    _seed(store, t)
    report = erase(store.sessions, t, store.vault, record_key=ADA_ERP, actor="dpo@acme.test")
    assert set(report.record_keys) == {ADA_CRM, ADA_ERP}
    assert _rows(store, t)["log"] == {BOB_CRM}
    with store.sessions() as session:
        (entry,) = AuditLog(session).entries(t)
        assert (entry.actor, entry.target) == ("dpo@acme.test", f"record:{ADA_ERP}")


def test_erase_needs_exactly_one_way_to_name_the_person(store):
    with pytest.raises(ConfigError):
        erase(store.sessions, store.tenant_id, store.vault)
    with pytest.raises(ConfigError):
        erase(store.sessions, store.tenant_id, store.vault, email=ADA, record_key=ADA_CRM)


@pytest.mark.e2e
def test_privacy_commands_erase_and_purge(store, tmp_path):
    env = {
        **os.environ,
        "SYNCLOOM_DATABASE_URL": store.url,
        "SYNCLOOM_KEY_FILE": str(tmp_path / "master.key"),
        "SYNCLOOM_LOG_LEVEL": "WARNING",
    }

    def syncloom(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "syncloom.cli", "privacy", *args, "--tenant", "acme"],
            env=env, capture_output=True, text=True, timeout=120, check=False,
        )  # fmt: skip

    with store.sessions.begin() as session:
        session.add(
            RecordLogEntry(
                tenant_id=store.tenant_id, flow="contacts", record_key=BOB_CRM, action="x"
            )
        )
    erased = syncloom("erase", "--record", BOB_CRM)
    assert erased.returncode == 0, erased.stderr
    assert "erased 1 record(s): 1 record log entries" in erased.stdout
    assert _rows(store, store.tenant_id)["log"] == set()

    unset = syncloom("purge")
    assert unset.returncode == 2
    assert "retention" in unset.stderr
    purged = syncloom("purge", "--days", "30")
    assert purged.returncode == 0, purged.stderr
    assert "purged 0 record log entries" in purged.stdout
    with store.sessions() as session:
        actions = [e.action for e in AuditLog(session).entries(store.tenant_id)]
    assert actions == ["privacy.purge", "privacy.erase"]


def test_erase_by_email_finds_the_person_in_a_sealed_error_text(store):
    t = store.tenant_id
    carol = "creatio:Contact:c3"
    log = RecordLog(store.sessions, t, store.vault)
    with store.sessions.begin() as session:
        log.add(
            session, flow="contacts", record_key=carol, action="failed",
            error="ValidationError: EMAIL1 carol@example.com is taken",
        )  # fmt: skip
    with store.sessions() as session:
        (row,) = session.query(RecordLogEntry).filter_by(tenant_id=t).all()
        assert "carol" not in str(row.error), "the error text is sealed at rest"

    report = erase(store.sessions, t, store.vault, email="carol@example.com")

    assert report.record_keys == (carol,)
    assert _rows(store, t)["log"] == set()
