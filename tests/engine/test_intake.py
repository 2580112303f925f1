"""The Intake: every refusal stores nothing, a replay is refused, hints reach the right flows.

Jobs are enqueued through a recording transaction: a real SQLite transaction whose enqueue
keeps what it was asked to enqueue (the runtime's own enqueue is exercised end to end in
``tests/e2e/test_webhooks.py``).
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from syncloom.connectors.base import RecordKey
from syncloom.connectors.creatio import CreatioConnector
from syncloom.connectors.creatio.webhooks import CreatioWebhookReceiver
from syncloom.connectors.d365.webhooks import D365WebhookReceiver
from syncloom.connectors.intacct import IntacctConnector, IntacctCredentials
from syncloom.engine import jobs
from syncloom.engine.bridge import LoopBridge
from syncloom.engine.clock import FrozenClock
from syncloom.engine.flows import load_flows
from syncloom.engine.installation import ConnectionInfo, Installation
from syncloom.engine.intake import (
    Intake,
    IntakeResult,
    WebhookEndpoint,
    WebhookRejected,
    flows_reading,
)
from syncloom.engine.signatures import sign
from syncloom.errors import ConfigError
from syncloom.store import make_engine, session_factory, upgrade
from syncloom.store.accounts import Accounts
from syncloom.store.models import Connection, IntakeEvent, IntakeStatus, Tenant

NOW = datetime(2026, 11, 22, 9, 30, tzinfo=UTC)
SECRET = "hook-secret-1"
ACCOUNT = "0b1e6c5e-0000-4000-8000-000000000001"
FLOWS = """
flows:
  - name: accounts
    source: {connection: crm, entity: Account}
    target: {connection: erp, entity: CUSTOMER}
    direction: DIRECTION
    key: {template: "SL{hash10}"}
    fields:
      - {source: Name, target: NAME}
"""


@dataclass
class RecordingTx:
    """A real transaction on our tables whose enqueue keeps (partition key, workflow id)."""

    connection: sa.Connection
    enqueued: list[tuple[str, str | None, str | None]]
    fail_enqueue: bool = False

    def enqueue(self, queue, fn, *args, partition_key=None, workflow_id=None) -> str:
        if self.fail_enqueue:
            raise RuntimeError("enqueue failed")
        self.enqueued.append((queue, partition_key, workflow_id))
        return workflow_id or "generated"


@dataclass
class Setting:
    """One tenant with a CRM, an ERP and a D365 connection, and an intake in front of them."""

    engine: sa.Engine
    tenant_id: int
    ids: dict[str, int]
    inst: Installation
    enqueued: list[tuple[str, str | None, str | None]] = field(default_factory=list)
    fail_enqueue: bool = False
    live: bool = True

    @contextmanager
    def transaction(self) -> Iterator[RecordingTx]:
        with self.engine.begin() as connection:
            tx = RecordingTx(connection, [], self.fail_enqueue)
            yield tx
        self.enqueued.extend(tx.enqueued)  # kept only when the transaction committed

    def installation(self, tenant_id: int) -> Installation:
        if not self.live or tenant_id != self.tenant_id:
            raise ConfigError("no live installation")
        return self.inst

    def rows(self) -> list[IntakeEvent]:
        with session_factory(self.engine)() as session:
            return list(session.scalars(sa.select(IntakeEvent).order_by(IntakeEvent.id)))

    def count(self) -> int:
        return len(self.rows())


def _connections(sessions) -> tuple[int, dict[str, int]]:
    with sessions.begin() as session:
        tenant = Accounts(session).create_tenant("acme", "Acme")
        ids = {}
        for name, system in (("crm", "creatio"), ("erp", "intacct"), ("fo", "d365")):
            row = Connection(tenant_id=tenant.id, name=name, system=system, base_url="http://x")
            session.add(row)
            session.flush()
            ids[name] = row.id
        return tenant.id, ids


@contextmanager
def setting(tmp_path, direction: str = "one_way") -> Iterator[tuple[Setting, Intake]]:
    url = f"sqlite:///{tmp_path / 'intake.db'}"
    upgrade(url)
    engine = make_engine(url)
    sessions = session_factory(engine)
    tenant_id, ids = _connections(sessions)
    bridge = LoopBridge()
    # Never called: hints are only matched against the sides' systems and entities.
    crm = CreatioConnector("http://127.0.0.1:9", username="u", password="p")
    erp = IntacctConnector("http://127.0.0.1:9", IntacctCredentials("s", "p", "c", "u", "p"))
    try:
        inst = Installation(
            tenant_id=tenant_id,
            document=load_flows(FLOWS.replace("DIRECTION", direction)),
            connections={
                "crm": ConnectionInfo(crm, ids["crm"]),
                "erp": ConnectionInfo(erp, ids["erp"]),
            },
            sessions=sessions,
            clock=FrozenClock(NOW),
            bridge=bridge,
        )
        world = Setting(engine, tenant_id, ids, inst)
        intake = Intake(
            transaction=world.transaction,
            sessions=sessions,
            endpoints={
                ids["crm"]: WebhookEndpoint(CreatioWebhookReceiver(), SECRET),
                ids["fo"]: WebhookEndpoint(D365WebhookReceiver(), SECRET),
            },
            clock=FrozenClock(NOW),
            installation=world.installation,
            max_body_bytes=4096,
        )
        yield world, intake
    finally:
        bridge.run(crm.aclose())
        bridge.run(erp.aclose())
        bridge.close()
        engine.dispose()


def notice(entity: str = "Account", ident: str = ACCOUNT, action: str = "update") -> bytes:
    body = {
        "entity": entity,
        "id": ident,
        "action": action,
        "modifiedOn": "2026-11-22T09:29:58.1234567Z",
        "modifiedBy": None,
    }
    return json.dumps(body, separators=(",", ":")).encode()


def signed(body: bytes, *, at: datetime = NOW, secret: str = SECRET) -> dict[str, str]:
    """Headers as the simulators send them: HMAC of the body alone, and a timestamp."""
    digest = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return {
        "Content-Type": "application/json",
        "X-Syncloom-Signature": "sha256=" + digest,
        "X-Syncloom-Timestamp": str(int(at.timestamp())),
    }


# --- accepted deliveries -----------------------------------------------------------------


def test_hint_for_a_flow_source_is_stored_and_its_job_enqueued_in_the_same_commit(tmp_path):
    with setting(tmp_path) as (world, intake):
        body = notice()
        result = intake.accept(world.tenant_id, "crm", signed(body), body)
        key = RecordKey("creatio", "Account", ACCOUNT)
        version = "2026-11-22T09:29:58.123456+00:00"
        assert result == IntakeResult(True, result.hints, result.enqueued)
        assert [(h.key, h.version, h.action) for h in result.hints] == [(key, version, "upsert")]
        expected_id = jobs.job_id(world.tenant_id, "accounts", key, version)
        assert result.enqueued == (expected_id,)
        assert world.enqueued == [(jobs.RECORD_QUEUE, f"{world.tenant_id}|{key}", expected_id)]
        [row] = world.rows()
        assert row.record_key == str(key)
        assert row.status is IntakeStatus.ENQUEUED
        assert row.connection_id == world.ids["crm"]
        assert row.body == body.decode()
        assert row.processed_at is None
        assert result.as_json() == {"accepted": True, "hints": 1, "enqueued": 1}


def test_hint_for_no_flow_is_stored_done_and_acknowledged(tmp_path):
    with setting(tmp_path) as (world, intake):
        body = notice(entity="Contact")
        result = intake.accept(world.tenant_id, "crm", signed(body), body)
        assert result.accepted
        assert result.enqueued == ()
        assert world.enqueued == []
        [row] = world.rows()
        assert row.status is IntakeStatus.DONE
        assert row.processed_at == NOW


def test_without_a_live_installation_hints_are_stored_done(tmp_path):
    with setting(tmp_path) as (world, intake):
        world.live = False
        body = notice()
        assert intake.accept(world.tenant_id, "crm", signed(body), body).enqueued == ()
        assert [r.status for r in world.rows()] == [IntakeStatus.DONE]


@pytest.mark.parametrize(("direction", "enqueued"), [("one_way", 0), ("both", 1)])
def test_target_side_hints_run_a_flow_only_when_it_syncs_both_ways(tmp_path, direction, enqueued):
    with setting(tmp_path, direction) as (world, intake):
        inst = world.inst
        key = RecordKey("intacct", "CUSTOMER", "C-1")
        assert len(flows_reading(inst, "erp", key)) == enqueued
        # The same key pushed by a connection no flow side uses reads nothing.
        assert flows_reading(inst, "crm", key) == ()


def test_shared_secret_header_is_accepted_instead_of_a_signature(tmp_path):
    with setting(tmp_path) as (world, intake):
        body = notice()
        headers = {"x-syncloom-secret": SECRET, "x-syncloom-timestamp": str(int(NOW.timestamp()))}
        assert intake.accept(world.tenant_id, "crm", headers, body).accepted
        assert world.count() == 1


def test_signature_over_timestamp_and_body_is_accepted(tmp_path):
    with setting(tmp_path) as (world, intake):
        body = notice()
        stamp = int(NOW.timestamp())
        headers = {
            "X-Syncloom-Signature": sign(SECRET, body, stamp),
            "X-Syncloom-Timestamp": str(stamp),
        }
        assert intake.accept(world.tenant_id, "crm", headers, body).accepted


def test_business_event_hints_each_get_a_row_and_are_acknowledged(tmp_path):
    with setting(tmp_path) as (world, intake):
        body = _invoiced_event()
        result = intake.accept(world.tenant_id, "fo", signed(body), body)
        assert len(result.hints) == 3
        assert result.enqueued == ()  # no flow of this tenant reads D365 records
        rows = world.rows()
        assert [r.record_key for r in rows] == [str(h.key) for h in result.hints]
        assert len({r.digest for r in rows}) == 3
        assert [bool(r.body) for r in rows] == [True, False, False]


def _invoiced_event() -> bytes:
    event = {
        "BusinessEventId": "SalesOrderInvoicedBusinessEvent",
        "BusinessEventLegalEntity": "USMF",
        "ControlNumber": 5637611083,
        "EventId": "3C47A4CD-6EDC-4319-B893-3F862EED65FD",
        "EventTime": "/Date(1672408275000)/",
        "EventTimeIso8601": "2022-12-30T13:51:15.2942742Z",
        "InvoiceNumber": "INV-0001",
        "SalesOrderNumber": "SO-1",
    }
    return json.dumps(event).encode()


# --- refusals: nothing stored, nothing enqueued ------------------------------------------


def _stale(body: bytes) -> dict[str, str]:
    return signed(body, at=NOW - timedelta(minutes=6))


def _unsigned(body: bytes) -> dict[str, str]:
    return {"X-Syncloom-Timestamp": str(int(NOW.timestamp()))}


def _no_timestamp(body: bytes) -> dict[str, str]:
    headers = signed(body)
    del headers["X-Syncloom-Timestamp"]
    return headers


def _wrong_secret(body: bytes) -> dict[str, str]:
    return signed(body, secret="not-the-secret")


def _wrong_shared_secret(body: bytes) -> dict[str, str]:
    return {"X-Syncloom-Secret": "guess", "X-Syncloom-Timestamp": str(int(NOW.timestamp()))}


@pytest.mark.parametrize(
    ("connection", "body", "headers", "status", "reason"),
    [
        ("crm", b"{" + b" " * 5000 + b"}", signed, 413, "larger than 4096"),
        ("crm", notice(), _unsigned, 401, "no signature"),
        ("crm", notice(), _wrong_secret, 401, "signature does not match"),
        ("crm", notice(), _wrong_shared_secret, 401, "shared secret does not match"),
        ("crm", notice(), _no_timestamp, 400, "timestamp"),
        ("crm", notice(), _stale, 408, "replay window"),
        ("crm", b"{not json", signed, 400, "not JSON"),
        ("crm", b'{"entity": "Account"}', signed, 400, "lacks entity or id"),
        ("crm", notice(action="merge"), signed, 400, "not insert, update or delete"),
        ("fo", b'{"no": "event"}', signed, 400, "BusinessEventId"),
        ("erp", notice(), signed, 404, "not enabled"),
        ("nowhere", notice(), signed, 404, "no such connection"),
    ],
)
def test_refused_delivery_stores_nothing(tmp_path, connection, body, headers, status, reason):
    with setting(tmp_path) as (world, intake):
        with pytest.raises(WebhookRejected) as refused:
            intake.accept(world.tenant_id, connection, headers(body), body)
        assert refused.value.status == status
        assert reason in refused.value.reason
        assert SECRET not in refused.value.reason
        assert world.count() == 0
        assert world.enqueued == []


def test_replayed_delivery_is_refused_and_stores_nothing_more(tmp_path):
    with setting(tmp_path) as (world, intake):
        body = notice()
        headers = signed(body)
        intake.accept(world.tenant_id, "crm", headers, body)
        with pytest.raises(WebhookRejected) as refused:
            intake.accept(world.tenant_id, "crm", headers, body)
        assert refused.value.status == 409
        assert world.count() == 1
        assert len(world.enqueued) == 1
        # The same body at a later second is a new delivery (a second edit), not a replay.
        later = signed(body, at=NOW + timedelta(seconds=1))
        assert intake.accept(world.tenant_id, "crm", later, body).accepted
        assert world.count() == 2


def test_replayed_business_event_is_refused_whole(tmp_path):
    with setting(tmp_path) as (world, intake):
        body = _invoiced_event()
        intake.accept(world.tenant_id, "fo", signed(body), body)
        with pytest.raises(WebhookRejected, match="replay") as refused:
            intake.accept(world.tenant_id, "fo", signed(body), body)
        assert refused.value.status == 409
        assert world.count() == 3


def test_failed_enqueue_rolls_the_rows_back(tmp_path):
    with setting(tmp_path) as (world, intake):
        world.fail_enqueue = True
        body = notice()
        with pytest.raises(RuntimeError, match="enqueue failed"):
            intake.accept(world.tenant_id, "crm", signed(body), body)
        assert world.count() == 0
        # Nothing was kept, so the sender's retry of the same delivery is not a replay.
        world.fail_enqueue = False
        assert intake.accept(world.tenant_id, "crm", signed(body), body).accepted


# --- tenants -----------------------------------------------------------------------------


def test_tenant_is_found_by_slug_or_id_and_only_when_active(tmp_path):
    with setting(tmp_path) as (world, intake):
        assert intake.tenant_id("acme") == world.tenant_id
        assert intake.tenant_id(str(world.tenant_id)) == world.tenant_id
        for unknown in ("nobody", "999"):
            with pytest.raises(WebhookRejected) as refused:
                intake.tenant_id(unknown)
            assert refused.value.status == 404
        with session_factory(world.engine).begin() as session:
            session.get(Tenant, world.tenant_id).is_active = False
        with pytest.raises(WebhookRejected):
            intake.tenant_id("acme")


def test_endpoint_repr_hides_the_secret():
    endpoint = WebhookEndpoint(CreatioWebhookReceiver(), SECRET)
    assert SECRET not in repr(endpoint)
