"""Both sides changed the same field: each policy gives its documented winner, logged with both."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from syncloom.connectors.base import RecordKey
from syncloom.errors import ConflictError
from syncloom.store.models import RecordLogEntry
from tests.e2e.world import flow_document, world

pytestmark = pytest.mark.e2e


async def _first_account(crm):
    async for page in crm.iter_keys("Account"):
        return await crm.get("Account", page[0])
    raise AssertionError("no account")


def _edit_both(w, account_id: str, customer_id: str, *, erp_later: bool) -> None:
    """Change the name on both sides; the later side is decided by the simulators' clocks."""
    now = datetime.now(UTC).replace(microsecond=0)
    crm_at, erp_at = (
        (now, now + timedelta(minutes=5)) if erp_later else (now + timedelta(minutes=5), now)
    )
    w.crm_sim.freeze_clock(crm_at)
    w.erp_sim.freeze_clock(erp_at)
    w.run(w.crm.update("Account", account_id, {"Name": "CRM says"}))
    w.run(w.erp.update("CUSTOMER", customer_id, {"NAME": "ERP says"}))
    w.crm_sim.freeze_clock(None)
    w.erp_sim.freeze_clock(None)


@pytest.mark.parametrize(
    ("policy", "erp_later", "winner"),
    [
        ("crm_wins", True, "CRM says"),
        ("erp_wins", False, "ERP says"),
        ("newest_wins", True, "ERP says"),
        ("newest_wins", False, "CRM says"),
    ],
)
def test_each_policy_gives_its_winner_and_logs_both_values(tmp_path, policy, erp_later, winner):
    with world(tmp_path, flow_document("both", policy)) as w:
        job = w.inst.unit("accounts").job
        account = w.run(_first_account(w.crm))
        created = w.run(job.run(account.key))
        customer_id = RecordKey.parse(created.target_key).id
        _edit_both(w, account.key.id, customer_id, erp_later=erp_later)
        outcome = w.run(job.run(account.key))
        assert outcome.action == "updated"
        assert w.run(w.crm.get("Account", account.key.id)).values["Name"] == winner
        assert w.run(w.erp.get("CUSTOMER", customer_id)).values["NAME"] == winner
        with w.sessions() as session:
            entry = session.query(RecordLogEntry).filter_by(action="updated").one()
        assert entry.diff["NAME"]["crm"] == "CRM says"
        assert entry.diff["NAME"]["erp"] == "ERP says"
        assert entry.diff["NAME"]["conflict"] is True
        assert (
            policy.split("_")[0] in entry.diff["NAME"]["reason"]
            or "modified last" in (entry.diff["NAME"]["reason"])
        )
        # Settled: running again writes nothing on either side.
        again = w.run(job.run(account.key))
        assert again.action in {"skipped", "unchanged"}
        hint_from_erp = w.run(job.run(RecordKey("intacct", "CUSTOMER", customer_id)))
        assert hint_from_erp.action in {"skipped", "unchanged"}


def test_manual_review_changes_nothing_and_raises_for_a_person(tmp_path):
    with world(tmp_path, flow_document("both", "manual_review")) as w:
        job = w.inst.unit("accounts").job
        account = w.run(_first_account(w.crm))
        created = w.run(job.run(account.key))
        customer_id = RecordKey.parse(created.target_key).id
        _edit_both(w, account.key.id, customer_id, erp_later=True)
        with pytest.raises(ConflictError, match="NAME"):
            w.run(job.run(account.key))
        assert w.run(w.crm.get("Account", account.key.id)).values["Name"] == "CRM says"
        assert w.run(w.erp.get("CUSTOMER", customer_id)).values["NAME"] == "ERP says"


def test_a_field_changed_on_one_side_travels_both_ways(tmp_path):
    with world(tmp_path, flow_document("both", "crm_wins")) as w:
        job = w.inst.unit("accounts").job
        account = w.run(_first_account(w.crm))
        created = w.run(job.run(account.key))
        customer_id = RecordKey.parse(created.target_key).id
        w.run(w.erp.update("CUSTOMER", customer_id, {"DISPLAYCONTACT.PHONE1": "+1 555 0111"}))
        outcome = w.run(job.run(RecordKey("intacct", "CUSTOMER", customer_id)))
        assert outcome.action == "updated"
        assert w.run(w.crm.get("Account", account.key.id)).values["Phone"] == "+1 555 0111"


FLAPPY = flow_document("both", "newest_wins").replace(
    "    key: {template:", "    flapping: {max_syncs: 3, window_min: 10}\n    key: {template:"
)


def test_a_pair_synced_back_and_forth_too_often_is_paused_for_review(tmp_path):
    with world(tmp_path, FLAPPY) as w:
        job = w.inst.unit("accounts").job
        account = w.run(_first_account(w.crm))
        customer_id = RecordKey.parse(w.run(job.run(account.key)).target_key).id
        erp_key = RecordKey("intacct", "CUSTOMER", customer_id)
        for n in range(3):  # something outside keeps changing the name, on alternating sides
            if n % 2:
                w.run(w.erp.update("CUSTOMER", customer_id, {"NAME": f"ERP {n}"}))
                assert w.run(job.run(erp_key)).action == "updated"
            else:
                w.run(w.crm.update("Account", account.key.id, {"Name": f"CRM {n}"}))
                assert w.run(job.run(account.key)).action == "updated"
        w.run(w.crm.update("Account", account.key.id, {"Name": "CRM 3"}))
        with pytest.raises(ConflictError, match="flapping"):
            w.run(job.run(account.key))
        assert w.run(w.erp.get("CUSTOMER", customer_id)).values["NAME"] == "CRM 2"  # not "CRM 3"
