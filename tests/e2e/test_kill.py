"""kill -9 between a target create and the link commit, restart: exactly one target record."""

from __future__ import annotations

import signal
import subprocess
import sys

import pytest

from syncloom.connectors.base import RecordKey
from syncloom.engine.flows import Side
from tests.e2e.kill_worker import build
from tests.e2e.world import world

pytestmark = pytest.mark.e2e


async def _first_account(crm):
    async for page in crm.iter_keys("Account"):
        return page[0]
    raise AssertionError("no account")


def test_sigkill_after_the_create_leaves_exactly_one_customer(tmp_path):
    from tests.e2e.world import flow_document

    with world(tmp_path, flow_document()) as w:
        crm_url, erp_url = w.crm_sim.base_url, w.erp_sim.base_url
        account_id = w.run(_first_account(w.crm))
        child = subprocess.run(
            [
                sys.executable,
                "-m",
                "tests.e2e.kill_worker",
                w.database_url,
                crm_url,
                erp_url,
                account_id,
            ],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert child.returncode == -signal.SIGKILL, child.stderr
        assert "dying before the link commit" in child.stdout
        # The create happened and the reservation is pending; nothing is linked yet.
        job = w.inst.unit("accounts").job
        key = RecordKey("creatio", "Account", account_id)
        pending = job.binder.find(str(key), Side.CRM)
        assert pending is not None
        assert pending.erp_key is None
        reserved = RecordKey.parse(pending.pending_key)
        assert w.run(w.erp.get("CUSTOMER", reserved.id)) is not None
        # Restart: a fresh process' installation over the same database finishes the job.
        restarted = build(w.database_url, crm_url, erp_url)
        try:
            outcome = restarted.bridge.run(restarted.unit("accounts").job.run(key))
        finally:
            restarted.bridge.close()
        assert outcome.target_key == str(reserved)
        ours = [
            r
            for r in w.run(
                w.erp.search(
                    "CUSTOMER", {"NAME": w.run(w.crm.get("Account", account_id)).values["Name"]}
                )
            )
            if r.key.id.startswith("SL")
        ]
        assert [r.key for r in ours] == [reserved]
        assert job.binder.to_other(str(key), Side.CRM) == str(reserved)
