"""Bulk loads over real HTTP: a few hundred Creatio Accounts into Intacct customers."""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from types import SimpleNamespace

import httpx
import pytest

from syncloom.connectors.base import Op, OpKind, RecordKey
from syncloom.engine.bulk import BulkLoad
from syncloom.engine.bulk_jobs import bulk_load
from syncloom.engine.bulk_settle import PageSettler
from syncloom.store.models import (
    Link,
    LinkState,
    ReviewItem,
    Run,
    RunKind,
    RunStatus,
    Watermark,
)
from tests.e2e.node_world import node_world
from tests.e2e.world import world

pytestmark = pytest.mark.e2e

SHARED = 60  # companies seeded on both sides (matched by tax id)
NEW = 240  # accounts only the CRM has (created by the load)
PAGE = 100

BULK_FLOW = """
flows:
  - name: accounts
    source: {connection: crm, entity: Account}
    target: {connection: erp, entity: CUSTOMER}
    key: {template: "SL{hash10}"}
    match:
      tiers:
        - name: tax
          fields: [{source: UsrTaxRegistrationNumber, target: TAXID, normalise: tax_id}]
    fields:
      - {source: Name, target: NAME}
      - {source: Phone, target: DISPLAYCONTACT.PHONE1}
      - {source: UsrCreditLimit, target: CREDITLIMIT}
    writeback:
      - {field: UsrErpCustomerId, value: "{target_id}"}
"""


def _new_accounts(count: int) -> list[Op]:
    return [
        Op(
            OpKind.CREATE,
            "Account",
            str(uuid.uuid5(uuid.NAMESPACE_URL, f"bulk-test-{n}")),
            {
                "Name": f"Bulk Prospect {n:04d}",
                "Phone": f"+1-202-555-{n:04d}",
                "UsrTaxRegistrationNumber": f"NEW-{n:06d}",
                "UsrCreditLimit": Decimal(1000 + n),
            },
        )
        for n in range(count)
    ]


def _seed(w) -> None:
    results = w.run(w.crm.batch(_new_accounts(NEW)))
    assert all(r.ok for r in results), [r.error for r in results if not r.ok][:3]


async def _all(connector, entity):
    return [k async for page in connector.iter_keys(entity) for k in page]


def _links(w) -> list[Link]:
    with w.sessions() as session:
        return list(session.query(Link).filter(Link.flow == "accounts"))


def _assert_each_account_once(w) -> None:
    accounts = w.run(_all(w.crm, "Account"))
    customers = set(w.run(_all(w.erp, "CUSTOMER")))
    links = _links(w)
    linked = [link for link in links if link.state is LinkState.LINKED]
    assert len(linked) == len(accounts) == SHARED + NEW
    assert len({link.crm_key for link in linked}) == len(linked)
    assert len({link.erp_key for link in linked}) == len(linked)
    assert all(link.erp_key.split(":", 2)[2] in customers for link in linked)
    # Every created customer is one account's twin: no duplicates, no orphans.
    ours = {c for c in customers if c.startswith("SL")}
    assert len(ours) == NEW
    assert len(customers) == SHARED + NEW


def test_bulk_load_links_every_account_once_and_a_rerun_writes_nothing(tmp_path):
    with world(tmp_path, BULK_FLOW, records=SHARED) as w:
        _seed(w)
        seen = []
        load = BulkLoad.for_flow(w.inst, "accounts", page_size=PAGE)
        run = w.run(load.run(progress=seen.append))
        assert run.status is RunStatus.SUCCEEDED
        assert run.kind is RunKind.BULK
        assert run.counts["created"] == NEW
        assert run.counts["matched"] + run.counts.get("matched_updated", 0) == SHARED
        # Write-backs move the created accounts to the end of the change feed: they are read
        # again, found linked, and skipped.
        assert run.counts["read"] == SHARED + 2 * NEW
        assert run.counts["skipped_linked"] == NEW
        pages = [p.pages for p in seen]
        assert pages[:-1] == list(range(1, len(pages)))
        assert pages[-1] == pages[-2]
        assert seen[-1].done
        assert not seen[-2].done
        _assert_each_account_once(w)
        # The write-back reached the CRM, batched.
        created = next(link for link in _links(w) if "SL" in link.erp_key)
        account = w.run(w.crm.get("Account", created.crm_key.split(":", 2)[2]))
        assert account.values["UsrErpCustomerId"] == created.erp_key.split(":", 2)[2]
        # The ledger knows the run's writes: a poll hint for either twin is an echo.
        job = w.inst.unit("accounts").job
        assert "echo" in w.run(job.run(account.key)).reason
        assert "echo" in w.run(job.run(RecordKey.parse(created.erp_key))).reason
        # Rerun: everything is linked, so nothing is written on either side.
        before = w.erp_sim.stats()["total_requests"], w.crm_sim.stats()["total_requests"]
        again = w.run(BulkLoad.for_flow(w.inst, "accounts", page_size=PAGE).run())
        assert again.counts["writes"] == 0
        assert again.counts["skipped_linked"] == SHARED + NEW
        assert "created" not in again.counts
        after = w.erp_sim.stats()["total_requests"], w.crm_sim.stats()["total_requests"]
        assert after[0] - before[0] <= 4  # the prefetch only
        _assert_each_account_once(w)


def _watermark(w) -> Watermark | None:
    with w.sessions() as session:
        return session.query(Watermark).filter(Watermark.flow == "accounts").one_or_none()


def _poll(w) -> tuple[int, list[str]]:
    """Poll the flow once; returns (records read, keys it would enqueue a job for)."""
    enqueued: list[str] = []

    @contextmanager
    def transaction() -> Iterator[SimpleNamespace]:
        with w.sessions.begin() as session:
            yield SimpleNamespace(connection=session.connection())

    def enqueue(tx, flow, record):  # type: ignore[no-untyped-def]
        enqueued.append(str(record.key))
        return str(record.key)

    w.inst.attach(transaction, enqueue)
    reports = w.run(w.inst.unit("accounts").poll())
    return sum(r.read for r in reports), enqueued


def test_a_full_load_seeds_the_watermark_so_the_first_poll_reads_only_changes(tmp_path):
    with world(tmp_path, BULK_FLOW, records=SHARED) as w:
        _seed(w)
        accounts = w.run(_all(w.crm, "Account"))
        run = w.run(BulkLoad.for_flow(w.inst, "accounts", page_size=PAGE).run())
        assert run.counts["created"] == NEW
        mark = _watermark(w)
        assert mark is not None
        assert mark.side == "crm"
        assert mark.value_utc.isoformat() == run.counts["checkpoint"]["newest"]
        # Without the seeded watermark this poll would read every account and enqueue a job
        # for each; now it re-reads only the overlap window, whose versions the load saw.
        read, enqueued = _poll(w)
        assert enqueued == []
        assert read < len(accounts)
        # A change after the load is a change for the poll.
        changed = accounts[0]
        w.run(w.crm.update("Account", changed, {"Phone": "+1-202-555-9999"}))
        read, enqueued = _poll(w)
        assert enqueued == [f"creatio:Account:{changed}"]


def test_run_killed_after_a_page_resumes_and_ends_with_every_account_once(tmp_path):
    with world(tmp_path, BULK_FLOW, records=SHARED) as w:
        _seed(w)
        load = BulkLoad.for_flow(w.inst, "accounts", page_size=PAGE)

        class Killed(Exception):
            """Stands for the process dying after a page was settled."""

        def die_after_page_2(progress):
            if progress.pages == 2:
                raise Killed

        with pytest.raises(Killed):
            w.run(load.run(progress=die_after_page_2))
        with w.sessions() as session:
            run = session.scalars(session.query(Run).statement).one()
            assert run.status is RunStatus.FAILED
            assert run.counts["checkpoint"]["pages"] == 2
            run_id = run.id
        resumed = w.run(BulkLoad.for_flow(w.inst, "accounts", page_size=PAGE).resume(run_id))
        assert resumed.status is RunStatus.SUCCEEDED
        # Resumed at page 3: no page was read twice (the count matches an unbroken run).
        assert resumed.counts["read"] == SHARED + 2 * NEW
        assert resumed.counts["created"] == NEW
        _assert_each_account_once(w)


def test_crash_between_batch_and_settle_finds_the_created_customers(tmp_path, monkeypatch):
    with world(tmp_path, BULK_FLOW, records=SHARED) as w:
        _seed(w)
        real_settle = PageSettler.settle
        calls = Counter()

        class Killed(Exception):
            """Stands for the process dying after the batch call, before the commit."""

        def settle_then_die(self, session, planned, writes, run_id):
            calls["settle"] += 1
            if calls["settle"] == 2:
                raise Killed
            return real_settle(self, session, planned, writes, run_id)

        monkeypatch.setattr(PageSettler, "settle", settle_then_die)
        with pytest.raises(Killed):
            w.run(BulkLoad.for_flow(w.inst, "accounts", page_size=PAGE).run())
        pending = [link for link in _links(w) if link.state is LinkState.PENDING]
        assert len(pending) == PAGE  # page 2's reservations survived the crash
        monkeypatch.setattr(PageSettler, "settle", real_settle)
        rerun = w.run(BulkLoad.for_flow(w.inst, "accounts", page_size=PAGE).run())
        assert rerun.status is RunStatus.SUCCEEDED
        assert not [link for link in _links(w) if link.state is LinkState.PENDING]
        _assert_each_account_once(w)


def test_ambiguous_match_goes_to_review_and_is_never_created(tmp_path):
    with world(tmp_path, BULK_FLOW, records=SHARED) as w:
        accounts = w.run(_all(w.crm, "Account"))
        first = w.run(w.crm.get("Account", accounts[0]))
        tax_id = first.values["UsrTaxRegistrationNumber"]
        w.run(w.erp.create("CUSTOMER", {"NAME": "Twin Co", "TAXID": tax_id}, "TWIN1"))
        run = w.run(BulkLoad.for_flow(w.inst, "accounts", page_size=PAGE).run())
        assert run.counts["review"] == 1
        with w.sessions() as session:
            items = list(session.query(ReviewItem))
        assert [i.record_key for i in items] == [str(first.key)]
        assert items[0].kind == "ambiguous_match"
        assert str(first.key) not in {link.crm_key for link in _links(w)}
        customers = w.run(_all(w.erp, "CUSTOMER"))
        assert not [c for c in customers if c.startswith("SL")]
        # A second run keeps one open item, not two.
        w.run(BulkLoad.for_flow(w.inst, "accounts", page_size=PAGE).run())
        with w.sessions() as session:
            assert session.query(ReviewItem).count() == 1


def _dump(handle) -> object:
    response = httpx.get(f"{handle.base_url}/_sim/dump", verify=handle.verify)
    response.raise_for_status()
    return response.json()


def test_dry_run_reports_creates_matches_and_diffs_and_writes_nothing(tmp_path):
    with world(tmp_path, BULK_FLOW, records=SHARED) as w:
        _seed(w)
        w.run(w.erp.update("CUSTOMER", "C00003", {"NAME": "Renamed In ERP"}))
        before = _dump(w.erp_sim), _dump(w.crm_sim)
        report = w.run(BulkLoad.for_flow(w.inst, "accounts", page_size=PAGE).dry_run(limit=10))
        assert (_dump(w.erp_sim), _dump(w.crm_sim)) == before
        with w.sessions() as session:
            assert session.query(Link).count() == 0
            assert session.query(Run).count() == 0
        assert report.counts["create"] == NEW
        assert report.counts["match"] == SHARED
        assert report.counts["update"] == 1
        assert len(report.creates) == 10
        assert report.samples[0]["NAME"].startswith("Bulk Prospect")
        (update,) = report.updates
        assert update["target"] == "intacct:CUSTOMER:C00003"
        assert update["diff"]["NAME"]["erp"] == "Renamed In ERP"
        assert update["to_target"]["NAME"] != "Renamed In ERP"
        assert report.as_dict()["counts"]["create"] == NEW


def test_records_leased_by_another_worker_are_skipped_until_the_lease_ends(tmp_path):
    with world(tmp_path, BULK_FLOW, records=SHARED) as w:
        _seed(w)
        load = BulkLoad.for_flow(w.inst, "accounts", page_size=PAGE)
        w.run(load.run())
        accounts = w.run(_all(w.crm, "Account"))
        target = next(link for link in _links(w) if "SL" in link.erp_key)
        with w.sessions.begin() as session:
            link = session.get(Link, target.id)
            link.state = LinkState.PENDING
            link.pending_key, link.erp_key = link.erp_key, None
            link.lease_owner = "record-job:7"
            link.lease_expires_at = w.inst.clock.now_utc() + timedelta(minutes=5)
        run = w.run(BulkLoad.for_flow(w.inst, "accounts", page_size=PAGE).run())
        assert run.counts["skipped_busy"] == 1
        assert run.counts["writes"] == 0
        with w.sessions.begin() as session:
            session.get(Link, target.id).lease_expires_at = w.inst.clock.now_utc()
        run = w.run(BulkLoad.for_flow(w.inst, "accounts", page_size=PAGE).run())
        assert run.counts["matched"] == 1  # its reserved key exists: found and bound
        assert len(accounts) == SHARED + NEW
        _assert_each_account_once(w)


def test_durable_bulk_load_settles_a_page_per_step_and_records_its_run(tmp_path):
    with node_world(tmp_path, BULK_FLOW, records=SHARED) as nw:
        w = SimpleNamespace(crm=nw.crm(), erp=nw.erp(), sessions=nw.inst.sessions, run=nw.run)
        _seed(w)
        assert nw.node.runtime is not None
        handle = nw.node.runtime.start(bulk_load, nw.tenant_id, "accounts", None)
        summary = handle.result(timeout_s=120)
        assert summary["status"] == "succeeded"
        assert summary["counts"]["created"] == NEW
        with w.sessions() as session:
            run = session.get(Run, summary["run_id"])
            assert run.workflow_id == handle.workflow_id
            assert run.kind is RunKind.BULK
        _assert_each_account_once(w)
        mark = _watermark(w)
        assert mark is not None
        assert mark.value_utc.isoformat() == summary["counts"]["checkpoint"]["newest"]


def test_backfill_loads_only_records_changed_since_its_date(tmp_path):
    with world(tmp_path, BULK_FLOW, records=SHARED) as w:
        _seed(w)  # the seed's accounts were last modified in 2025; these are new
        since = datetime(2026, 1, 1, tzinfo=UTC)
        run = w.run(BulkLoad.for_flow(w.inst, "accounts", page_size=PAGE).run(since=since))
        assert run.kind is RunKind.BACKFILL
        assert run.counts["created"] == NEW
        assert "matched" not in run.counts
        assert run.counts["checkpoint"]["since"] == since.isoformat()
        assert len(_links(w)) == NEW
        assert _watermark(w) is None  # a backfill read only part of the source
