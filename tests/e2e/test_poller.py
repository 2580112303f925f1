"""Polling loses nothing and duplicates nothing when many records share one timestamp."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from tests.e2e.node_world import node_world, wait_for
from tests.e2e.world import flow_document

pytestmark = pytest.mark.e2e


def test_equal_timestamps_across_page_edges_then_same_second_edit(tmp_path):
    with node_world(tmp_path, flow_document(), records=1) as w:
        for poller in w.inst.unit("accounts").pollers:
            poller.page_size = 7
        moment = datetime.now(UTC).replace(microsecond=0) + timedelta(days=30)
        w.crm_sim.freeze_clock(moment)
        made = []
        for n in range(23):
            ident = str(uuid.uuid4())
            w.run(w.crm().create("Account", {"Name": f"Tied {n}"}, ident))
            made.append(ident)
        first = w.node.poll_now(w.tenant_id, "accounts").result(60)
        ids = set(first["job_ids"])
        assert len(ids) == len(first["job_ids"]), "a record was enqueued twice"
        assert first["enqueued"] == 24  # the 23 tied records and the one seeded account
        assert first["pages"] >= 4
        wait_for(
            lambda: w.inst.log.actions("accounts").count("created") == 24,
            what="every tied record created once",
        )
        again = w.node.poll_now(w.tenant_id, "accounts").result(60)
        # The write-backs were stamped at the same frozen instant, with new values: seen anew.
        assert again["enqueued"] == 24
        wait_for(
            lambda: w.inst.log.actions("accounts").count("skipped") >= 24,
            what="the write-backs skipped as echoes",
        )
        assert "updated" not in w.inst.log.actions("accounts")
        # An edit inside the same second has the same timestamp but different values.
        w.run(w.crm().update("Account", made[0], {"Name": "Tied, renamed"}))
        third = w.node.poll_now(w.tenant_id, "accounts").result(60)
        assert third["enqueued"] == 1
        wait_for(lambda: "updated" in w.inst.log.actions("accounts"), what="the renamed record")
        quiet = w.node.poll_now(w.tenant_id, "accounts").result(60)
        assert quiet["enqueued"] == 0
        w.crm_sim.freeze_clock(None)
