"""The record job over real HTTP: Creatio simulator → Intacct simulator, no runtime in between."""

from __future__ import annotations

import pytest

from syncloom.connectors.base import RecordKey
from syncloom.engine.flows import Side
from tests.e2e.world import flow_document, world

pytestmark = pytest.mark.e2e


async def _accounts(crm):
    keys = [k async for page in crm.iter_keys("Account") for k in page]
    return [await crm.get("Account", k) for k in keys]


def test_new_account_becomes_customer_with_key_written_back_and_no_echo(tmp_path):
    with world(tmp_path, flow_document()) as w:
        job = w.inst.unit("accounts").job
        account = w.run(_accounts(w.crm))[0]
        outcome = w.run(job.run(account.key))
        assert outcome.action == "created"
        customer_id = RecordKey.parse(outcome.target_key).id
        customer = w.run(w.erp.get("CUSTOMER", customer_id))
        assert customer is not None
        assert customer.values["NAME"] == account.values["Name"]
        reread = w.run(w.crm.get("Account", account.key.id))
        assert reread.values["UsrErpCustomerId"] == customer_id
        # The write-back changed the CRM record: its hint must not cause another write.
        again = w.run(job.run(account.key))
        assert again.action == "skipped"
        assert "echo" in again.reason
        after = w.run(w.erp.get("CUSTOMER", customer_id))
        assert after.modified_on_utc == customer.modified_on_utc
        assert after.version == customer.version
        assert job.binder.to_other(str(account.key), Side.CRM) == outcome.target_key


def test_crash_between_create_and_link_commit_leaves_one_customer(tmp_path):
    with world(tmp_path, flow_document()) as w:
        job = w.inst.unit("accounts").job
        account = w.run(_accounts(w.crm))[0]
        real_settle = job.settle

        class Killed(Exception):
            """Stands for the process dying between the create and the link commit."""

        def crash(*args, **kwargs):
            raise Killed

        job.settle = crash  # type: ignore[method-assign]
        with pytest.raises(Killed):
            w.run(job.run(account.key))
        job.settle = real_settle  # type: ignore[method-assign]
        outcome = w.run(job.run(account.key))
        assert outcome.action in {"created", "updated", "unchanged"}
        found = w.run(w.erp.search("CUSTOMER", {"NAME": account.values["Name"]}))
        ours = [r.key for r in found if r.key.id.startswith("SL")]  # the seed has its own twin
        assert len(ours) == 1, ours


def test_update_travels_and_target_only_edit_stays_in_one_way_flow(tmp_path):
    with world(tmp_path, flow_document()) as w:
        job = w.inst.unit("accounts").job
        account = w.run(_accounts(w.crm))[0]
        created = w.run(job.run(account.key))
        customer_id = RecordKey.parse(created.target_key).id
        w.run(w.crm.update("Account", account.key.id, {"Name": "Renamed Ltd"}))
        outcome = w.run(job.run(account.key))
        assert outcome.action == "updated"
        assert w.run(w.erp.get("CUSTOMER", customer_id)).values["NAME"] == "Renamed Ltd"
        # An edit made only in the ERP is not reverted by a one-way flow.
        w.run(w.erp.update("CUSTOMER", customer_id, {"DISPLAYCONTACT.PHONE1": "+1 555 0199"}))
        w.run(w.crm.update("Account", account.key.id, {"Name": "Renamed Again"}))
        w.run(job.run(account.key))
        customer = w.run(w.erp.get("CUSTOMER", customer_id))
        assert customer.values["NAME"] == "Renamed Again"
        assert customer.values["DISPLAYCONTACT.PHONE1"] == "+1 555 0199"


CONTACTS = """
flows:
  - name: accounts
    source: {connection: crm, entity: Account}
    target: {connection: erp, entity: CUSTOMER}
    key: {template: "SL{hash10}"}
    fields:
      - {source: Name, target: NAME}
  - name: contacts
    source: {connection: crm, entity: Contact}
    target: {connection: erp, entity: CONTACT}
    key: {template: "SL-{hash10}"}
    fields:
      - {source: Name, target: PRINTAS}
      - {source: Email, target: EMAIL1}
    depends_on:
      - {flow: accounts, field: AccountId, target: COMPANYNAME, value: "{field:NAME}"}
"""


def test_parent_account_syncs_first_and_contact_points_at_it(tmp_path):
    with world(tmp_path, CONTACTS) as w:
        contacts = w.inst.unit("contacts").job
        accounts = w.inst.unit("accounts").job
        contact_ids = w.run(_first_keys(w.crm, "Contact"))
        contact = next(
            c
            for c in (w.run(w.crm.get("Contact", k)) for k in contact_ids)
            if c.values.get("AccountId")
        )
        account_key = accounts.source.key(str(contact.values["AccountId"]))
        assert accounts.binder.to_other(str(account_key), Side.CRM) is None
        outcome = w.run(contacts.run(contact.key))
        assert outcome.action == "created"
        twin = accounts.binder.to_other(str(account_key), Side.CRM)
        assert twin is not None, "the parent account was not synced first"
        customer = w.run(w.erp.get("CUSTOMER", RecordKey.parse(twin).id))
        erp_contact = w.run(w.erp.get("CONTACT", RecordKey.parse(outcome.target_key).id))
        assert erp_contact.values["COMPANYNAME"] == customer.values["NAME"]


async def _first_keys(crm, entity):
    async for page in crm.iter_keys(entity, page_size=50):
        return list(page)
    return []


def test_a_record_held_by_a_bulk_page_waits_for_it(tmp_path):
    from datetime import UTC, datetime, timedelta

    from syncloom.errors import TransientError
    from syncloom.store.models import Link

    with world(tmp_path, flow_document()) as w:
        job = w.inst.unit("accounts").job
        account = w.run(_accounts(w.crm))[0]
        w.run(job.run(account.key))
        with w.sessions.begin() as session:
            link = session.query(Link).one()
            link.lease_owner = "bulk-run-7"
            link.lease_expires_at = datetime.now(UTC) + timedelta(minutes=5)
        w.run(w.crm.update("Account", account.key.id, {"Name": "While bulk runs"}))
        with pytest.raises(TransientError, match="bulk run holds") as caught:
            w.run(job.run(account.key))
        assert caught.value.retry_after_s == 5.0
        with w.sessions.begin() as session:
            session.query(Link).one().lease_expires_at = datetime.now(UTC) - timedelta(seconds=1)
        assert w.run(job.run(account.key)).action == "updated"
