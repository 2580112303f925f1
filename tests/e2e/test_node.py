"""The whole node: polls enqueue durable record jobs on the runtime; retries and dead letters."""

from __future__ import annotations

import pytest

from syncloom.engine.jobs import replay_dead_letter
from syncloom.store.models import DeadLetter, DeadLetterStatus, Link, LinkState, Run, RunStatus
from tests.e2e.node_world import node_world, wait_for
from tests.e2e.world import flow_document

pytestmark = pytest.mark.e2e

STATUS_FLOW = """
flows:
  - name: accounts
    source: {connection: crm, entity: Account}
    target: {connection: erp, entity: CUSTOMER}
    key: {template: "SL{hash10}"}
    fields:
      - {source: Name, target: NAME}
      - {source: Web, target: STATUS}
"""


def _linked(w) -> int:
    with w.node.sessions() as session:
        return session.query(Link).filter_by(state=LinkState.LINKED).count()


def _open_letters(w) -> list[DeadLetter]:
    return list(w.inst.dead_letters.list(status=DeadLetterStatus.OPEN))


def test_poll_syncs_every_account_once_and_the_next_poll_writes_nothing(tmp_path):
    with node_world(tmp_path, flow_document(), records=4) as w:
        report = w.node.poll_now(w.tenant_id, "accounts").result(60)
        assert report["enqueued"] >= 4
        wait_for(lambda: _linked(w) >= report["enqueued"], what="every account linked")
        log = w.inst.log.actions("accounts")
        assert log.count("created") == report["enqueued"]
        versions = {
            k: w.run(w.erp().get("CUSTOMER", k)).version
            for k in w.run(_keys(w.erp(), "CUSTOMER"))
            if k.startswith("SL")
        }
        # The write-backs changed the accounts: the next poll sees them, and skips them.
        second = w.node.poll_now(w.tenant_id, "accounts").result(60)
        wait_for(
            lambda: w.inst.log.actions("accounts").count("skipped") >= second["enqueued"],
            what="echo skips",
        )
        assert "updated" not in w.inst.log.actions("accounts")
        for key, version in versions.items():
            assert w.run(w.erp().get("CUSTOMER", key)).version == version
        with w.node.sessions() as session:
            runs = session.query(Run).filter_by(flow="accounts").order_by(Run.id).all()
        assert [r.status for r in runs] == [RunStatus.SUCCEEDED, RunStatus.SUCCEEDED]
        assert runs[0].counts["enqueued"] == report["enqueued"]
        assert runs[0].finished_at is not None


def test_permanent_error_dead_letters_then_edit_replay_and_auto_close(tmp_path):
    with node_world(tmp_path, STATUS_FLOW, records=2) as w:
        accounts = w.run(_keys(w.crm(), "Account"))
        for key in accounts:
            w.run(w.crm().update("Account", key, {"Web": "bogus"}))
        w.node.poll_now(w.tenant_id, "accounts").result(60)
        letters = wait_for(
            lambda: len(_open_letters(w)) >= 2 and _open_letters(w), what="dead letters"
        )
        first, second = letters[0], letters[1]
        # Intacct's inspect lists STATUS's valid values: the value is refused before the write.
        assert first.error_class == "FieldValueError"
        assert "STATUS: 'bogus' is not one of the allowed values" in first.error_text
        # Edit and replay the first: the override wins and the record syncs.
        w.inst.dead_letters.edit(first.id, {"STATUS": "active"})
        assert w.node.runtime is not None
        replay_dead_letter(w.node.runtime, w.tenant_id, first.id)
        wait_for(lambda: _linked(w) >= 1, what="replayed record linked")
        # Fix the second at the source: the newer version syncs and closes its dead letter.
        second_key = second.record_key.rsplit(":", 1)[1]
        w.run(w.crm().update("Account", second_key, {"Web": "active"}))
        w.node.poll_now(w.tenant_id, "accounts").result(60)
        wait_for(
            lambda: w.inst.dead_letters.list(status=DeadLetterStatus.RESOLVED),
            what="auto-closed dead letter",
        )
        assert _open_letters(w) == []


def test_429_storm_and_5xx_bursts_complete_without_dead_letters(tmp_path):
    with node_world(tmp_path, flow_document(), records=4) as w:
        w.erp_sim.set_faults(retry_after_s=1)
        w.erp_sim.script_faults(["429", "503", "429", "500", "ok", "429", "502"])
        report = w.node.poll_now(w.tenant_id, "accounts").result(60)
        wait_for(lambda: _linked(w) >= report["enqueued"], timeout_s=120, what="all linked")
        assert _open_letters(w) == []
        injected = w.erp_sim.stats()["faults_injected"]
        assert injected.get("429", 0) >= 3
        stats = w.inst.governors["erp"].stats()
        assert stats.factor < 1.0 or stats.day_count > 0  # the governor saw the storm


async def _keys(connector, entity):
    return [k async for page in connector.iter_keys(entity) for k in page]


ACCOUNTS_FLOW = """
flows:
  - name: accounts
    source: {connection: crm, entity: Account}
    target: {connection: erp, entity: CUSTOMER}
    key: {template: "SL{hash10}"}
    fields:
      - {source: Name, target: NAME}
"""


def test_a_throttled_scheduled_poll_waits_for_the_next_fire_and_loses_nothing(tmp_path):
    from datetime import UTC, datetime

    from syncloom.engine import jobs

    with node_world(tmp_path, ACCOUNTS_FLOW, records=2) as w:
        assert w.node.runtime is not None
        context = f"{w.tenant_id}:accounts"
        w.crm_sim.set_faults("503:1.0")
        # The fire ends quietly (no failed workflow); its run row says why it read nothing.
        assert (
            w.node.runtime.start(jobs.scheduled_poll, datetime.now(UTC), context).result(120)
            is None
        )
        with w.node.sessions() as session:
            run = session.query(Run).filter_by(flow="accounts").order_by(Run.id.desc()).first()
            assert run is not None
            assert run.status is RunStatus.FAILED
            assert "503" in (run.error or "") or "Transient" in (run.error or "")
        assert _linked(w) == 0

        w.crm_sim.clear_faults()
        w.node.runtime.start(jobs.scheduled_poll, datetime.now(UTC), context).result(120)
        wait_for(lambda: _linked(w) == 2, what="both accounts synced on the next fire")


def test_a_fire_while_its_flow_is_still_being_polled_reads_nothing(tmp_path):
    from datetime import UTC, datetime

    from syncloom.engine import jobs
    from syncloom.engine.poll_guard import PollGuard

    with node_world(tmp_path, ACCOUNTS_FLOW, records=2) as w:
        assert w.node.runtime is not None
        context = f"{w.tenant_id}:accounts"
        guard = PollGuard(w.node.sessions.kw["bind"])
        with guard.hold(w.tenant_id, "accounts") as polling:  # a poll of this flow runs
            assert polling
            w.node.runtime.start(jobs.scheduled_poll, datetime.now(UTC), context).result(120)
            with w.node.sessions() as session:
                assert session.query(Run).filter_by(flow="accounts").count() == 0
        # Once that poll is done, the next fire reads as usual.
        w.node.runtime.start(jobs.scheduled_poll, datetime.now(UTC), context).result(120)
        wait_for(lambda: _linked(w) == 2, what="both accounts synced on the next fire")
