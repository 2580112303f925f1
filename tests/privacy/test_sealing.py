"""Payload snapshots are sealed at rest: the database file never holds them in plain text."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest

from syncloom.engine.clock import SystemClock
from syncloom.engine.dead_letters import DeadLetterQueue
from syncloom.engine.privacy import DEAD_LETTER_PAYLOAD, is_sealed, seal, unseal
from syncloom.engine.record_log import RecordLog
from syncloom.errors import MappingError, VaultError
from syncloom.vault import Keyring, MasterKey, Vault
from tests.e2e.world import flow_document, world

SECRET = "zq7-Secret-Holdings-4417"
TOKEN = "tok_9f8e7d6c5b4a39281706"

# Phone is mapped into a decimal field: every account with a phone dead-letters.
BAD_FLOW = """
flows:
  - name: accounts
    source: {connection: crm, entity: Account}
    target: {connection: erp, entity: CUSTOMER}
    key: {template: "SL{hash10}"}
    fields:
      - {source: Name, target: NAME}
      - {source: Phone, target: CREDITLIMIT}
"""


def _vault() -> Vault:
    return Vault(Keyring(current=MasterKey.generate()))


def _stored_bytes(tmp_path: Path) -> bytes:
    return b"".join(p.read_bytes() for p in tmp_path.glob("syncloom.db*"))


def _tenant_store(tmp_path: Path):  # type: ignore[no-untyped-def]
    """A migrated SQLite file with one tenant: its sessions and the tenant's id."""
    from syncloom.store import make_engine, session_factory, upgrade
    from syncloom.store.accounts import Accounts

    url = f"sqlite:///{tmp_path / 'syncloom.db'}"
    upgrade(url)
    sessions = session_factory(make_engine(url))
    with sessions.begin() as session:
        return sessions, Accounts(session).create_tenant("acme", "Acme").id


def _protect(inst, vault: Vault) -> None:  # type: ignore[no-untyped-def]
    inst.log.vault = vault
    inst.dead_letters.vault = vault
    for unit in inst.flows.values():
        unit.job.binder.vault = vault


@pytest.mark.e2e
def test_database_file_holds_no_plaintext_after_a_sync_that_dead_letters(tmp_path):
    vault = _vault()
    with world(tmp_path, BAD_FLOW, records=1) as w:
        _protect(w.inst, vault)
        job = w.inst.unit("accounts").job
        ident = str(uuid.uuid4())
        w.run(w.crm.create("Account", {"Name": SECRET, "Phone": "call me"}, ident))
        key = str(job.source.key(ident))
        with pytest.raises(MappingError) as caught:
            w.run(job.run(job.source.key(ident)))
        # What the durable job does with a mapping error: park it, log the failure.
        letter_id = w.inst.dead_letters.park(
            flow="accounts",
            record_key=key,
            payload={"key": key, "vendor_code": TOKEN, "overrides": {"NAME": SECRET}},
            error_class=type(caught.value).__name__,
            error_text=str(caught.value),
            attempts=1,
        )
        with w.sessions.begin() as session:
            w.inst.log.add(
                session,
                flow="accounts",
                record_key=key,
                action="failed",
                diff={"source": {"Name": SECRET}},
                error=str(caught.value),
            )
        w.inst.dead_letters.edit(letter_id, {"NAME": SECRET + "-fixed"})

        stored = _stored_bytes(tmp_path)
        assert SECRET.encode() not in stored
        assert TOKEN.encode() not in stored
        assert b"call me" not in stored

        letter = w.inst.dead_letters.get(letter_id)
        assert letter.payload["vendor_code"] == TOKEN
        assert letter.payload["overrides"] == {"NAME": SECRET + "-fixed"}
        (listed,) = w.inst.dead_letters.list()
        assert listed.payload["key"] == key
        (entry,) = w.inst.log.history("accounts", key)
        assert entry.diff == {"source": {"Name": SECRET}}
        # Reading did not write the plain payload back.
        assert SECRET.encode() not in _stored_bytes(tmp_path)


def test_sealed_values_open_only_for_their_tenant_and_purpose(tmp_path):
    vault = _vault()
    sealed = seal(vault, 1, DEAD_LETTER_PAYLOAD, {"email": "ada@example.com"})
    assert is_sealed(sealed)
    assert "ada@example.com" not in str(sealed)
    assert unseal(vault, 1, DEAD_LETTER_PAYLOAD, sealed) == {"email": "ada@example.com"}
    with pytest.raises(VaultError):
        unseal(vault, 2, DEAD_LETTER_PAYLOAD, sealed)
    with pytest.raises(VaultError):
        unseal(vault, 1, "record_log.diff", sealed)
    with pytest.raises(VaultError):
        unseal(None, 1, DEAD_LETTER_PAYLOAD, sealed)
    assert unseal(vault, 1, DEAD_LETTER_PAYLOAD, {"plain": 1}) == {"plain": 1}
    assert seal(None, 1, DEAD_LETTER_PAYLOAD, {"plain": 1}) == {"plain": 1}


def test_rows_written_before_sealing_stay_readable(tmp_path):
    from syncloom.store import make_engine, session_factory, upgrade
    from syncloom.store.accounts import Accounts

    url = f"sqlite:///{tmp_path / 'syncloom.db'}"
    upgrade(url)
    sessions = session_factory(make_engine(url))
    with sessions.begin() as session:
        tenant = Accounts(session).create_tenant("acme", "Acme").id
    plain = DeadLetterQueue(sessions, tenant, SystemClock())
    letter_id = plain.park(
        flow="f", record_key="k", payload={"a": 1}, error_class="E", error_text="e", attempts=1
    )
    with sessions.begin() as session:
        RecordLog(sessions, tenant).add(
            session, flow="f", record_key="k", action="x", diff={"b": 2}
        )
    vault = _vault()
    assert DeadLetterQueue(sessions, tenant, SystemClock(), vault).get(letter_id).payload == {
        "a": 1
    }
    assert RecordLog(sessions, tenant, vault).history("f", "k")[0].diff == {"b": 2}


@pytest.mark.e2e
def test_a_bulk_load_parks_its_failures_sealed(tmp_path):
    from sqlalchemy import select

    from syncloom.engine.bulk import BulkLoad
    from syncloom.store.models import DeadLetter

    vault = _vault()
    with world(tmp_path, BAD_FLOW, records=1) as w:
        _protect(w.inst, vault)
        ident = str(uuid.uuid4())
        w.run(w.crm.create("Account", {"Name": SECRET, "Phone": "call me 4417"}, ident))
        w.run(BulkLoad.for_flow(w.inst, "accounts").run())
        parked = [
            letter for letter in w.inst.dead_letters.list() if letter.record_key.endswith(ident)
        ]
        assert len(parked) == 1
        assert "CREDITLIMIT" in parked[0].error_text  # opened for the reader
        with w.sessions() as session:
            row = session.scalars(select(DeadLetter).where(DeadLetter.id == parked[0].id)).one()
            assert row.error_text.startswith("sealed:")  # sealed at rest
            assert is_sealed(row.payload)
        stored = _stored_bytes(tmp_path)
        assert b"call me 4417" not in stored
        assert SECRET.encode() not in stored


def test_record_log_error_text_is_sealed_at_rest_and_opens_for_readers(tmp_path):
    from sqlalchemy import select

    from syncloom.portal.history import LogEntryView
    from syncloom.store.models import RecordLogEntry

    sessions, tenant = _tenant_store(tmp_path)
    vault = _vault()
    # Vendors echo the refused values in their error text.
    error = f"ValidationError: the name {SECRET} is already used by ada@example.com"
    with sessions.begin() as session:
        RecordLog(sessions, tenant, vault).add(
            session, flow="f", record_key="k", action="failed", error=error
        )
        RecordLog(sessions, tenant, vault).add(session, flow="f", record_key="k", action="ok")
    stored = _stored_bytes(tmp_path)
    assert SECRET.encode() not in stored
    assert b"ada@example.com" not in stored
    (ok, failed) = RecordLog(sessions, tenant, vault).history("f", "k")
    assert (failed.error, ok.error) == (error, None)
    with sessions() as session:
        row = session.scalars(select(RecordLogEntry).where(RecordLogEntry.action == "failed")).one()
        assert row.error is not None
        assert row.error.startswith("sealed:")
        assert LogEntryView.of(row, vault).error == error  # what the portal shows
        with pytest.raises(VaultError):
            LogEntryView.of(row, _vault())


def test_dead_letter_error_text_is_sealed_at_rest_and_opens_for_readers(tmp_path):
    from sqlalchemy import select

    from syncloom.portal.dead_letters import DeadLetterView
    from syncloom.store.models import DeadLetter

    sessions, tenant = _tenant_store(tmp_path)
    vault = _vault()
    queue = DeadLetterQueue(sessions, tenant, SystemClock(), vault)
    # Vendors echo the refused values in their error text.
    error = f"the name {SECRET} is already used by ada@example.com"
    letter_id = queue.park(
        flow="f",
        record_key="k",
        payload={"key": "k"},
        error_class="ValidationError",
        error_text=error,
        attempts=1,
    )
    stored = _stored_bytes(tmp_path)
    assert SECRET.encode() not in stored
    assert b"ada@example.com" not in stored
    assert queue.get(letter_id).error_text == error
    assert [letter.error_text for letter in queue.list()] == [error]
    with sessions() as session:
        row = session.scalars(select(DeadLetter)).one()
        assert row.error_text.startswith("sealed:")
        assert DeadLetterView.of(row, vault).error_text == error  # what the portal shows
        with pytest.raises(VaultError):
            DeadLetterView.of(row, _vault())


@pytest.mark.e2e
def test_link_snapshots_are_sealed_at_rest_and_open_for_the_next_sync(tmp_path):
    from syncloom.engine.flows import Side
    from syncloom.store.models import Link

    vault = _vault()
    with world(tmp_path, flow_document(), records=1) as w:
        _protect(w.inst, vault)
        job = w.inst.unit("accounts").job
        ident = str(uuid.uuid4())
        w.run(w.crm.create("Account", {"Name": SECRET}, ident))
        key = job.source.key(ident)
        assert w.run(job.run(key)).action == "created"
        with w.sessions() as session:
            (link,) = session.query(Link).filter(Link.crm_key == str(key)).all()
            assert is_sealed(link.base_snapshot)
        assert SECRET.encode() not in _stored_bytes(tmp_path)
        view = job.binder.find(str(key), Side.CRM)
        assert view is not None
        assert SECRET in str(view.base_snapshot), "the binder opens the snapshot"
        # The next sync plans three ways against the opened snapshot and writes the change.
        w.run(w.crm.update("Account", ident, {"Name": SECRET + "-2"}))
        assert w.run(job.run(key)).action == "updated"
        assert SECRET.encode() not in _stored_bytes(tmp_path)
