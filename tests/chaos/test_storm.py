"""A concurrent-edit storm on both sides of a bidirectional flow, under each conflict policy.

Every linked account is edited several times on each side at once (CRM ``Phone`` and ERP
``DISPLAYCONTACT.PHONE1``, fired together), then the node polls until nothing is left to do.
What must hold: both sides end at the policy's winner (or, for manual review, stay as they
are with a review item each); each record is written at most once for its change; and further
polls write nothing (no oscillation). A second storm runs while polls are in flight: the
systems still converge to one of the last edits, and then stay put.
"""

from __future__ import annotations

import asyncio
import threading
from typing import Any

import pytest
import sqlalchemy as sa

from syncloom.errors import TransientError
from syncloom.store.models import Link, LinkState, RecordLogEntry, ReviewItem
from tests.e2e.node_world import NodeWorld, node_world, wait_for
from tests.e2e.world import flow_document

pytestmark = pytest.mark.e2e

RECORDS = 4
WAVES = 3
PHONE = "DISPLAYCONTACT.PHONE1"


def _idle(w: NodeWorld) -> bool:
    with w.node.sessions() as session:
        busy = session.execute(
            sa.text("SELECT count(*) FROM workflow_status WHERE status IN ('PENDING', 'ENQUEUED')")
        ).scalar()
    return busy == 0


def _settle(w: NodeWorld, max_polls: int = 8) -> int:
    """Poll and run every enqueued job until a poll finds nothing new; return the polls."""
    assert w.node.runtime is not None
    wait_for(lambda: _idle(w), what="jobs enqueued earlier to finish")
    for turn in range(1, max_polls + 1):
        report = w.node.poll_now(w.tenant_id, "accounts").result(60)
        for job_id in report["job_ids"]:
            handle = w.node.runtime.job(job_id)
            if handle is not None:
                handle.result(60)
        if report["enqueued"] == 0:
            return turn
    raise AssertionError(f"still enqueuing after {max_polls} polls: oscillation?")


def _pairs(w: NodeWorld) -> list[tuple[str, str]]:
    with w.node.sessions() as session:
        links = session.query(Link).filter_by(state=LinkState.LINKED).all()
        return [(k.crm_key.rsplit(":", 1)[1], k.erp_key.rsplit(":", 1)[1]) for k in links]


def _last_log_id(w: NodeWorld) -> int:
    with w.node.sessions() as session:
        return (
            session.query(RecordLogEntry.id).order_by(RecordLogEntry.id.desc()).limit(1).scalar()
            or 0
        )


def _updates_since(w: NodeWorld, mark: int) -> dict[str, int]:
    with w.node.sessions() as session:
        rows = session.query(RecordLogEntry).filter(RecordLogEntry.id > mark).all()
        counts: dict[str, int] = {}
        for row in rows:
            if row.action in {"updated", "matched_updated", "created"}:
                counts[row.record_key] = counts.get(row.record_key, 0) + 1
        return counts


async def _edit(connector: Any, entity: str, key: str, values: dict[str, str]) -> None:
    # A person's edit is retried by the person: the ERP throttles the storm's own writes too.
    for _ in range(20):
        try:
            await connector.update(entity, key, values)
            return
        except TransientError as exc:
            await asyncio.sleep(exc.retry_after_s or 0.2)
    raise AssertionError(f"could not edit {entity} {key}")


async def _storm(w: NodeWorld, pairs: list[tuple[str, str]], tag: str) -> None:
    crm, erp = w.crm(), w.erp()

    async def crm_side(account: str, n: int) -> None:
        for wave in range(WAVES):
            await _edit(crm, "Account", account, {"Phone": f"+1 {tag} C{n}.{wave}"})

    async def erp_side(customer: str, n: int) -> None:
        for wave in range(WAVES):
            await _edit(erp, "CUSTOMER", customer, {PHONE: f"+1 {tag} E{n}.{wave}"})

    edits = [crm_side(a, n) for n, (a, _) in enumerate(pairs)]
    edits += [erp_side(c, n) for n, (_, c) in enumerate(pairs)]
    await asyncio.gather(*edits)


async def _read(w: NodeWorld, pairs: list[tuple[str, str]]) -> list[tuple[Any, Any]]:
    return [(await w.crm().get("Account", a), await w.erp().get("CUSTOMER", c)) for a, c in pairs]


def _expected(policy: str, crm: Any, erp: Any) -> str:
    if policy == "crm_wins":
        return str(crm.values["Phone"])
    if policy == "erp_wins":
        return str(erp.values[PHONE])
    # newest_wins: the later modification, a tie to the CRM (the policy's tie winner).
    newer_erp = erp.modified_on_utc > crm.modified_on_utc
    return str(erp.values[PHONE] if newer_erp else crm.values["Phone"])


def _linked_world(w: NodeWorld) -> list[tuple[str, str]]:
    _settle(w)
    pairs = wait_for(lambda: len(_pairs(w)) >= RECORDS and _pairs(w), what="links")
    _settle(w)
    return pairs[:RECORDS]


@pytest.mark.parametrize("policy", ["crm_wins", "erp_wins", "newest_wins"])
def test_storm_converges_to_the_policy_outcome_with_one_write_and_no_oscillation(tmp_path, policy):
    with node_world(tmp_path, flow_document("both", policy), records=RECORDS) as w:
        pairs = _linked_world(w)
        w.run(_storm(w, pairs, "s1"))
        stormed = w.run(_read(w, pairs))
        expected = [_expected(policy, crm, erp) for crm, erp in stormed]
        mark = _last_log_id(w)
        _settle(w)
        after = w.run(_read(w, pairs))
        assert [(c.values["Phone"], e.values[PHONE]) for c, e in after] == [
            (x, x) for x in expected
        ]
        writes = _updates_since(w, mark)
        assert writes, "the storm made no write: the test proves nothing"
        assert max(writes.values()) == 1, writes
        # No oscillation: more polls find nothing to write.
        settled_mark = _last_log_id(w)
        assert _settle(w) == 1
        assert _updates_since(w, settled_mark) == {}
        still = w.run(_read(w, pairs))
        assert [(c.version, e.version) for c, e in still] == [
            (c.version, e.version) for c, e in after
        ]


def test_manual_review_storm_writes_nothing_and_asks_a_person_once_per_record(tmp_path):
    with node_world(tmp_path, flow_document("both", "manual_review"), records=RECORDS) as w:
        pairs = _linked_world(w)
        w.run(_storm(w, pairs, "mr"))
        stormed = w.run(_read(w, pairs))
        mark = _last_log_id(w)
        _settle(w)
        assert _updates_since(w, mark) == {}
        after = w.run(_read(w, pairs))
        assert [(c.values["Phone"], e.values[PHONE]) for c, e in after] == [
            (c.values["Phone"], e.values[PHONE]) for c, e in stormed
        ]
        with w.node.sessions() as session:
            reviewed = {r.record_key for r in session.query(ReviewItem).all()}
        assert len(reviewed) == len(pairs)


def test_storm_while_polls_run_converges_to_a_last_edit_and_stays_put(tmp_path):
    with node_world(tmp_path, flow_document("both", "newest_wins"), records=RECORDS) as w:
        pairs = _linked_world(w)
        stop = threading.Event()

        def keep_polling() -> None:
            while not stop.is_set():
                w.node.poll_now(w.tenant_id, "accounts").result(60)

        poller = threading.Thread(target=keep_polling)
        poller.start()
        try:
            for storm in range(3):
                w.run(_storm(w, pairs, f"p{storm}"))
        finally:
            stop.set()
            poller.join(timeout=120)
        _settle(w)
        after = w.run(_read(w, pairs))
        last = {f"+1 p2 C{n}.{WAVES - 1}" for n in range(len(pairs))}
        last |= {f"+1 p2 E{n}.{WAVES - 1}" for n in range(len(pairs))}
        for crm, erp in after:
            assert crm.values["Phone"] == erp.values[PHONE]
            assert crm.values["Phone"] in last
        mark = _last_log_id(w)
        assert _settle(w) == 1
        assert _updates_since(w, mark) == {}
