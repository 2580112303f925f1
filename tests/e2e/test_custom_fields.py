"""Custom fields end to end: a Creatio ``Usr`` column synced into an Intacct UDF picklist.

Each value the target's own field list would refuse (too long, wrong type, not one of the
picklist's values, required and empty) stops its record before any write, lands in the dead
letters naming the field and the system, and syncs once fixed (by replay or at the source).
"""

from __future__ import annotations

import pytest

from syncloom.engine.bulk import BulkLoad
from syncloom.engine.jobs import replay_dead_letter
from syncloom.store.models import DeadLetter, DeadLetterStatus, Link, LinkState
from tests.e2e.node_world import node_world, wait_for
from tests.e2e.world import world

pytestmark = pytest.mark.e2e

FLOW = """
flows:
  - name: accounts
    source: {connection: crm, entity: Account}
    target: {connection: erp, entity: CUSTOMER}
    key: {template: "SL{hash10}"}
    fields:
      - {source: AlternativeName, target: NAME}
      - {source: UsrCustomerTier, target: CUSTOMER_TIER}
      - {source: Code, target: REGION_CODE}
      - {source: Web, target: CREDITLIMIT}
"""

# One refusal per account, in the order of the accounts' keys.
BAD = [
    ({"AlternativeName": ""}, "NAME", "is required"),
    ({"UsrCustomerTier": "Platinum"}, "CUSTOMER_TIER", "not one of the allowed values"),
    ({"Code": "NORTHEAST-COAST"}, "REGION_CODE", "15 characters long"),
    ({"Web": "lots"}, "CREDITLIMIT", "expects a number"),
]
GOOD = {"UsrCustomerTier": "Silver", "Code": "NE", "Web": "2500"}


def _open_letters(w) -> list[DeadLetter]:
    return list(w.inst.dead_letters.list(status=DeadLetterStatus.OPEN))


def _linked(w) -> int:
    with w.node.sessions() as session:
        return session.query(Link).filter_by(state=LinkState.LINKED).count()


def _erp_key(w, account_key: str) -> str | None:
    with w.node.sessions() as session:
        query = session.query(Link).filter(Link.crm_key.endswith(account_key))
        link = query.filter_by(state=LinkState.LINKED).one_or_none()
        return None if link is None or link.erp_key is None else link.erp_key.rsplit(":", 1)[1]


async def _keys(connector, entity):
    return sorted([k async for page in connector.iter_keys(entity) for k in page])


def test_refused_custom_values_dead_letter_unwritten_then_sync_once_fixed(tmp_path):
    with node_world(tmp_path, FLOW, records=4) as w:
        accounts = w.run(_keys(w.crm(), "Account"))
        before = w.run(_keys(w.erp(), "CUSTOMER"))
        for n, (key, (bad, _, _)) in enumerate(zip(accounts, BAD, strict=True)):
            change = {"AlternativeName": f"Tiered {n}", **GOOD, **bad}
            w.run(w.crm().update("Account", key, change))
        w.node.poll_now(w.tenant_id, "accounts").result(60)
        letters = wait_for(
            lambda: len(_open_letters(w)) >= 4 and _open_letters(w), what="four dead letters"
        )
        by_account = {letter.record_key.rsplit(":", 1)[1]: letter for letter in letters}
        for key, (_, field, reason) in zip(accounts, BAD, strict=True):
            letter = by_account[key]
            assert letter.error_class == "FieldValueError"
            assert letter.error_text.startswith(f"{field}: ")
            assert reason in letter.error_text
            assert "intacct CUSTOMER" in letter.error_text
        assert w.run(_keys(w.erp(), "CUSTOMER")) == before, "nothing may be written"
        assert _linked(w) == 0

        # Fix the picklist value on the dead letter and replay it.
        tier_letter = by_account[accounts[1]]
        w.inst.dead_letters.edit(tier_letter.id, {"CUSTOMER_TIER": "Gold"})
        assert w.node.runtime is not None
        replay_dead_letter(w.node.runtime, w.tenant_id, tier_letter.id)
        wait_for(lambda: _erp_key(w, accounts[1]), what="replayed record linked")
        customer = w.run(w.erp().get("CUSTOMER", _erp_key(w, accounts[1])))
        assert customer.values["CUSTOMER_TIER"] == "Gold"
        assert customer.values["REGION_CODE"] == "NE"

        # Fix the too-long code at the source: the newer version syncs, its letter closes.
        w.run(w.crm().update("Account", accounts[2], {"Code": "NE"}))
        w.node.poll_now(w.tenant_id, "accounts").result(60)
        wait_for(lambda: _erp_key(w, accounts[2]), what="fixed record linked")
        customer = w.run(w.erp().get("CUSTOMER", _erp_key(w, accounts[2])))
        assert customer.values["CUSTOMER_TIER"] == "Silver"
        resolved = wait_for(
            lambda: w.inst.dead_letters.list(status=DeadLetterStatus.RESOLVED),
            what="auto-closed dead letter",
        )
        assert {r.record_key.rsplit(":", 1)[1] for r in resolved} >= {accounts[2]}
        assert {r.record_key.rsplit(":", 1)[1] for r in _open_letters(w)} == {
            accounts[0],
            accounts[3],
        }


BULK_FLOW = """
flows:
  - name: accounts
    source: {connection: crm, entity: Account}
    target: {connection: erp, entity: CUSTOMER}
    key: {template: "SL{hash10}"}
    fields:
      - {source: Name, target: NAME}
      - {source: UsrCustomerTier, target: CUSTOMER_TIER}
"""


def test_a_bulk_load_checks_custom_fields_too(tmp_path):
    with world(tmp_path, BULK_FLOW, records=3) as w:
        accounts = w.run(_keys(w.crm, "Account"))
        before = w.run(_keys(w.erp, "CUSTOMER"))
        w.run(w.crm.update("Account", accounts[0], {"UsrCustomerTier": "Platinum"}))
        run = w.run(BulkLoad.for_flow(w.inst, "accounts", page_size=10).run())
        assert run.counts.get("created") == 2, run.counts
        letters = list(w.inst.dead_letters.list(status=DeadLetterStatus.OPEN))
        assert [letter.record_key.rsplit(":", 1)[1] for letter in letters] == [accounts[0]]
        assert "CUSTOMER_TIER: 'Platinum' is not one of the allowed values" in letters[0].error_text
        assert "intacct CUSTOMER" in letters[0].error_text
        created = sorted(set(w.run(_keys(w.erp, "CUSTOMER"))) - set(before))
        tiers = {w.run(w.erp.get("CUSTOMER", key)).values["CUSTOMER_TIER"] for key in created}
        assert len(created) == 2
        assert tiers <= {"Gold", "Silver", "Bronze"}


TWO_WAY_FLOW = """
flows:
  - name: accounts
    source: {connection: crm, entity: Account}
    target: {connection: erp, entity: CUSTOMER}
    direction: both
    key: {template: "SL{hash10}"}
    fields:
      - {source: Name, target: NAME}
      - {source: UsrCustomerTier, target: TAXID}
"""


def test_a_two_way_flow_checks_what_it_writes_back_to_the_source(tmp_path):
    with node_world(tmp_path, TWO_WAY_FLOW, records=1) as w:
        (account,) = w.run(_keys(w.crm(), "Account"))
        w.run(w.crm().update("Account", account, {"UsrCustomerTier": "Gold"}))
        w.node.poll_now(w.tenant_id, "accounts").result(60)
        customer_id = wait_for(lambda: _erp_key(w, account), what="account linked")

        # The ERP's comment field holds more than the CRM's 20-character column can.
        w.run(w.erp().update("CUSTOMER", customer_id, {"TAXID": "Platinum plus, renewed"}))
        w.node.poll_now(w.tenant_id, "accounts").result(60)
        (letter,) = wait_for(lambda: _open_letters(w), what="a dead letter")
        assert letter.error_class == "FieldValueError"
        assert letter.error_text.startswith("UsrCustomerTier: ")
        assert "creatio Account" in letter.error_text
        crm_account = w.run(w.crm().get("Account", account))
        assert crm_account.values["UsrCustomerTier"] == "Gold", "nothing may be written"
