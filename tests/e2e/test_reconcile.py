"""Key-set sweeps and reconciliation reports over real HTTP: Creatio Accounts, Intacct customers."""

from __future__ import annotations

from decimal import Decimal

import pytest

from syncloom.engine.bulk import BulkLoad
from syncloom.engine.reconcile import Reconciler
from syncloom.engine.record_log import RecordLog
from syncloom.engine.sweep import KeySetSweep
from syncloom.errors import ConfigError
from syncloom.store.models import Link, LinkState
from tests.e2e.world import world

pytestmark = pytest.mark.e2e

RECORDS = 20

FLOW = """
flows:
  - name: accounts
    source: {connection: crm, entity: Account}
    target: {connection: erp, entity: CUSTOMER}
    key: {template: "SL{hash10}"}
    delete: POLICY
    inactivate: {field: STATUS, value: inactive}
    match:
      tiers:
        - name: tax
          fields: [{source: UsrTaxRegistrationNumber, target: TAXID, normalise: tax_id}]
    fields:
      - {source: Name, target: NAME}
      - {source: UsrCreditLimit, target: CREDITLIMIT}
    reconcile: {sum: [CREDITLIMIT]}
"""


def _flow(policy: str = "inactivate") -> str:
    return FLOW.replace("POLICY", policy)


async def _keys(connector, entity):
    return [k async for page in connector.iter_keys(entity) for k in page]


def _fresh_accounts(w, count: int) -> list[str]:
    """Accounts with no contacts (so the CRM lets them be deleted), not yet in the ERP."""
    return [
        w.run(w.crm.create("Account", {"Name": f"Fresh {n}", "UsrCreditLimit": 10})).key.id
        for n in range(count)
    ]


def _loaded(w) -> dict[str, str]:
    """Bulk-load the flow; returns CRM id -> Intacct id of every linked pair."""
    run = w.run(BulkLoad.for_flow(w.inst, "accounts").run())
    assert run.counts["matched"] == RECORDS
    with w.sessions() as session:
        links = session.query(Link).filter(Link.state == LinkState.LINKED).all()
        return {link.crm_key.split(":", 2)[2]: link.erp_key.split(":", 2)[2] for link in links}


@pytest.mark.parametrize(
    ("policy", "action"),
    [("inactivate", "inactivated"), ("propagate", "deleted"), ("ignore", "delete_ignored")],
)
def test_sweep_applies_the_delete_policy_to_twins_of_deleted_accounts(tmp_path, policy, action):
    with world(tmp_path, _flow(policy), records=RECORDS) as w:
        gone = sorted(_fresh_accounts(w, 3))
        pairs = _loaded(w)
        for ident in gone:
            w.run(w.crm.delete("Account", ident))
        report = w.run(KeySetSweep.for_flow(w.inst, "accounts").sweep())
        assert report.counts == {action: 3}
        assert sorted(k.split(":", 2)[2] for k in report.missing) == gone
        customers = set(w.run(_keys(w.erp, "CUSTOMER")))
        for ident in gone:
            twin = pairs[ident]
            if policy == "propagate":
                assert twin not in customers
            else:
                status = w.run(w.erp.get("CUSTOMER", twin)).values["STATUS"]
                assert status == ("inactive" if policy == "inactivate" else "active")
        kept = [pairs[i] for i in pairs if i not in gone]
        assert all(w.run(w.erp.get("CUSTOMER", t)).values["STATUS"] == "active" for t in kept)
        log = RecordLog(w.sessions, w.inst.tenant_id)
        assert log.actions("accounts").count(action) == 3
        # The links are broken, so a second sweep finds nothing to do.
        again = w.run(KeySetSweep.for_flow(w.inst, "accounts").sweep())
        assert again.counts == {}
        assert again.links == RECORDS


def test_sweep_refuses_to_remove_most_links_unless_forced(tmp_path):
    with world(tmp_path, _flow("propagate"), records=RECORDS) as w:
        fresh = _fresh_accounts(w, RECORDS + 1)
        _loaded(w)
        for ident in fresh:
            w.run(w.crm.delete("Account", ident))
        with pytest.raises(ConfigError, match=f"would remove {RECORDS + 1} of {2 * RECORDS + 1}"):
            w.run(KeySetSweep.for_flow(w.inst, "accounts").sweep())
        assert len(w.run(_keys(w.erp, "CUSTOMER"))) == 2 * RECORDS + 1
        report = w.run(KeySetSweep.for_flow(w.inst, "accounts").sweep(force=True))
        assert report.counts == {"deleted": RECORDS + 1}


def test_report_shows_unmatched_records_on_both_sides_totals_and_mismatches(tmp_path):
    with world(tmp_path, _flow(), records=RECORDS) as w:
        pairs = _loaded(w)
        clean = w.run(Reconciler.for_flow(w.inst, "accounts").report())
        assert clean.in_step, clean.as_dict()
        lonely_accounts = [
            w.run(w.crm.create("Account", {"Name": f"Lonely {n}", "UsrCreditLimit": 100}))
            for n in range(2)
        ]
        for n in range(3):
            values = {"NAME": f"Orphan {n}", "CREDITLIMIT": Decimal(7)}
            w.run(w.erp.create("CUSTOMER", values, f"ORPHAN{n}"))
        renamed, raised = sorted(pairs.values())[:2]
        w.run(w.erp.update("CUSTOMER", renamed, {"NAME": "Renamed By Hand"}))
        limit = w.run(w.erp.get("CUSTOMER", raised)).values["CREDITLIMIT"]
        w.run(w.erp.update("CUSTOMER", raised, {"CREDITLIMIT": limit + 500}))

        report = w.run(Reconciler.for_flow(w.inst, "accounts", limit=2).report())
        assert (report.source_count, report.target_count) == (RECORDS + 2, RECORDS + 3)
        assert report.linked_count == RECORDS
        assert sorted(report.unmatched_source) == sorted(str(a.key) for a in lonely_accounts)
        assert report.unmatched_target_count == 3
        assert len(report.unmatched_target) == 2  # bounded by the limit
        assert all("ORPHAN" in k for k in report.unmatched_target)
        totals = report.totals["CREDITLIMIT"]
        assert totals.linked_target - totals.linked_source == 500
        assert totals.target - totals.linked_target == 21
        assert totals.source - totals.linked_source == 200
        assert not totals.agree
        by_target = {m["target"]: m["fields"] for m in report.mismatches}
        assert report.mismatch_count == 2
        assert by_target[f"intacct:CUSTOMER:{renamed}"]["NAME"]["target"] == "Renamed By Hand"
        assert set(by_target[f"intacct:CUSTOMER:{raised}"]) == {"CREDITLIMIT"}
        assert not report.in_step
        assert report.as_dict()["totals"]["CREDITLIMIT"]["agree"] is False


def test_a_sum_of_an_unmapped_field_is_refused_at_construction(tmp_path):
    document = _flow().replace("[CREDITLIMIT]", "[TOTALDUE]")
    with world(tmp_path, document, records=1) as w, pytest.raises(ConfigError, match="TOTALDUE"):
        Reconciler.for_flow(w.inst, "accounts")
