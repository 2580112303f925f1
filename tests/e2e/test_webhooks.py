"""Webhooks over real HTTP: a Creatio edit, pushed to the intake, reaches Intacct through a job.

One world and one launched runtime serve the whole module (the durable engine is a process
singleton). The intake's router runs under uvicorn on loopback and is registered as the
Creatio simulator's webhook target; the simulator signs every delivery itself.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import ssl
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, TypeVar

import httpx
import pytest
from fastapi import FastAPI

from syncloom.connectors.base import RecordKey
from syncloom.connectors.creatio.webhooks import CreatioWebhookReceiver
from syncloom.connectors.d365.webhooks import D365WebhookReceiver
from syncloom.engine import jobs
from syncloom.engine.clock import SystemClock
from syncloom.engine.flows import Side
from syncloom.engine.intake import Intake, IntakeResult, WebhookEndpoint
from syncloom.engine.intake_api import intake_router
from syncloom.engine.runtime import Runtime
from syncloom.simulators.common.server import SimulatorServer
from syncloom.store.models import Connection, IntakeEvent, IntakeStatus
from tests.connectors.d365.support import connect, running_d365
from tests.e2e.world import World, flow_document, world

pytestmark = pytest.mark.e2e

SECRET = "e2e-hook-secret"
DEADLINE_S = 60.0
T = TypeVar("T")


class RecordingIntake(Intake):
    """The real Intake, keeping each accepted delivery's result for the test to wait on."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.results: list[IntakeResult] = []
        self._lock = threading.Lock()

    def accept(self, *args: Any) -> IntakeResult:  # type: ignore[override]
        result = super().accept(*args)
        with self._lock:
            self.results.append(result)
        return result

    def for_key(self, key: RecordKey) -> list[IntakeResult]:
        with self._lock:
            return [r for r in self.results if any(h.key == key for h in r.hints)]


@dataclass
class Hooked:
    """The world, its runtime, and the intake listening on a real socket."""

    world: World
    runtime: Runtime
    intake: RecordingIntake
    url: str


def wait_for(probe: Callable[[], T | None], what: str, timeout_s: float = DEADLINE_S) -> T:
    """Poll ``probe`` until it returns something truthy, or fail at the deadline."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        value = probe()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"timed out after {timeout_s} s waiting for {what}")


@pytest.fixture(scope="module")
def hooked(tmp_path_factory) -> Iterator[Hooked]:
    with world(tmp_path_factory.mktemp("webhooks"), flow_document()) as w:
        runtime = Runtime(w.database_url, executor_id="webhooks-e2e")
        runtime.register_queue(jobs.RECORD_QUEUE, partitioned=True, worker_concurrency=8)
        runtime.launch()
        try:
            jobs.install(w.inst, runtime)
            crm_id = w.inst.connections["crm"].connection_id
            endpoints = {
                crm_id: WebhookEndpoint(CreatioWebhookReceiver(), SECRET),
                _d365_connection(w): WebhookEndpoint(D365WebhookReceiver(), SECRET),
            }
            intake = RecordingIntake(
                transaction=runtime.transaction,
                sessions=w.sessions,
                endpoints=endpoints,
                clock=SystemClock(),
            )
            app = FastAPI()
            app.include_router(intake_router(intake))
            with SimulatorServer(app) as server:
                url = f"{server.base_url}/hooks/acme/crm"
                registered = httpx.post(
                    f"{w.crm_sim.base_url}/_sim/webhooks",
                    json={"url": url, "secret": SECRET, "entities": ["Account"]},
                )
                assert registered.status_code == 201
                yield Hooked(w, runtime, intake, url)
                httpx.delete(f"{w.crm_sim.base_url}/_sim/webhooks")
        finally:
            runtime.shutdown()


def _d365_connection(w: World) -> int:
    """A D365 Connection of the same tenant that no flow uses: its events are only stored."""
    with w.sessions.begin() as session:
        row = Connection(
            tenant_id=w.inst.tenant_id, name="fo", system="d365", base_url="https://127.0.0.1"
        )
        session.add(row)
        session.flush()
        return row.id


def _accounts(h: Hooked) -> list[str]:
    async def keys() -> list[str]:
        return [k async for page in h.world.crm.iter_keys("Account") for k in page]

    return sorted(h.world.run(keys()))


def _customer_name(h: Hooked, account: RecordKey) -> str | None:
    job = h.world.inst.unit("accounts").job
    twin = job.binder.to_other(str(account), Side.CRM)
    if twin is None:
        return None
    customer = h.world.run(h.world.erp.get("CUSTOMER", RecordKey.parse(twin).id))
    return None if customer is None else str(customer.values["NAME"])


def _outcomes(h: Hooked, results: list[IntakeResult]) -> list[dict[str, Any]]:
    outcomes = []
    for result in results:
        for workflow_id in result.enqueued:
            handle = h.runtime.job(workflow_id)
            assert handle is not None, workflow_id
            outcomes.append(handle.result(timeout_s=DEADLINE_S))
    return outcomes


def _settled(h: Hooked, account: RecordKey, deliveries: int) -> list[dict[str, Any]]:
    """Wait for ``deliveries`` pushes about ``account``, then for the jobs they enqueued."""
    results = wait_for(
        lambda: h.intake.for_key(account)[deliveries - 1 :] and h.intake.for_key(account),
        f"{deliveries} deliveries about {account}",
    )
    return _outcomes(h, results)


def test_account_edit_reaches_intacct_through_the_webhook_and_its_echo_writes_nothing(hooked):
    h = hooked
    account = RecordKey("creatio", "Account", _accounts(h)[0])
    logged = h.world.inst.log.actions("accounts")
    h.world.run(h.world.crm.update("Account", account.id, {"Name": "Hooked Ltd"}))
    wait_for(lambda: _customer_name(h, account) == "Hooked Ltd", "the customer to be renamed")
    # The job wrote the customer's id back to the account; that write is pushed too.
    outcomes = _settled(h, account, 2)
    assert [o["action"] for o in outcomes] == ["created", "skipped"]
    assert "echo" in outcomes[1]["reason"]
    assert outcomes[1]["writes"] == 0
    # One write in the record log: the echo is at most logged as a skip.
    new = h.world.inst.log.actions("accounts")[len(logged) :]
    assert [action for action in new if action != "skipped"] == ["created"]
    assert _customer_name(h, account) == "Hooked Ltd"


def test_second_edit_updates_the_customer_through_the_webhook(hooked):
    h = hooked
    account = RecordKey("creatio", "Account", _accounts(h)[1])
    h.world.run(h.world.crm.update("Account", account.id, {"Name": "First Name Ltd"}))
    # Let the create and its write-back settle before the next edit.
    _settled(h, account, 2)
    h.world.run(h.world.crm.update("Account", account.id, {"Name": "Second Name Ltd"}))
    wait_for(lambda: _customer_name(h, account) == "Second Name Ltd", "the second edit")
    actions = [o["action"] for o in _settled(h, account, 3)]
    assert actions == ["created", "skipped", "updated"]


def _hint_states(h: Hooked, account: RecordKey) -> list[IntakeStatus]:
    with h.world.sessions() as session:
        query = IntakeEvent.scoped(h.world.inst.tenant_id)
        rows = session.scalars(query.where(IntakeEvent.record_key == str(account)))
        return [row.status for row in rows]


def test_stored_hints_are_done_once_their_jobs_end(hooked):
    h = hooked
    account = RecordKey("creatio", "Account", _accounts(h)[2])
    h.world.run(h.world.crm.update("Account", account.id, {"Name": "Settled Ltd"}))
    _settled(h, account, 2)
    states = _hint_states(h, account)
    assert len(states) == 2
    assert states == [IntakeStatus.DONE, IntakeStatus.DONE], "a hint stayed enqueued"


def test_a_hint_whose_job_is_parked_fails_with_the_outcome(hooked):
    h = hooked
    ident = str(uuid.uuid4())
    # Longer than Intacct's NAME allows: the job parks the record as a dead letter at once.
    h.world.run(h.world.crm.create("Account", {"Name": "N" * 300}, ident))
    account = RecordKey("creatio", "Account", ident)
    _settled(h, account, 1)

    def failed() -> list[IntakeEvent]:
        with h.world.sessions() as session:
            query = IntakeEvent.scoped(h.world.inst.tenant_id)
            rows = list(session.scalars(query.where(IntakeEvent.record_key == str(account))))
            return rows if all(r.status is IntakeStatus.FAILED for r in rows) else []

    (row,) = wait_for(failed, "the hint to be failed")
    assert row.outcome is not None
    assert row.outcome.endswith("parked for dead letter")
    assert "NNNN" not in row.outcome, "the vendor's text stays out of the plain outcome"


def _notice(ident: str, modified_on: str) -> bytes:
    body = {"entity": "Contact", "id": ident, "action": "update", "modifiedOn": modified_on}
    return json.dumps(body).encode()


def _signed(body: bytes, secret: str = SECRET) -> dict[str, str]:
    digest = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return {
        "Content-Type": "application/json",
        "X-Syncloom-Signature": f"sha256={digest}",
        "X-Syncloom-Timestamp": str(int(time.time())),
    }


def _event_rows(h: Hooked) -> int:
    with h.world.sessions() as session:
        return session.query(IntakeEvent).count()


def test_replayed_delivery_is_refused_over_http_with_a_json_body(hooked):
    h = hooked
    body = _notice("5d1f0000-0000-4000-8000-00000000c0de", "2026-11-22T09:00:00.0000000Z")
    headers = _signed(body)
    first = httpx.post(h.url, content=body, headers=headers)
    assert first.status_code == 202
    assert first.json() == {"accepted": True, "hints": 1, "enqueued": 0}
    before = _event_rows(h)
    again = httpx.post(h.url, content=body, headers=headers)
    assert again.status_code == 409
    assert again.json()["error"] == "replay"
    assert _event_rows(h) == before


@pytest.mark.parametrize(
    ("path", "tamper", "status", "error"),
    [
        ("/hooks/acme/crm", "secret", 401, "unauthenticated"),
        ("/hooks/acme/crm", "json", 400, "malformed"),
        ("/hooks/nobody/crm", "", 404, "not_found"),
        ("/hooks/acme/nowhere", "", 404, "not_found"),
    ],
)
def test_refusals_over_http_store_nothing(hooked, path, tamper, status, error):
    h = hooked
    body = b"{oops" if tamper == "json" else _notice("a", "")
    headers = _signed(body, "wrong" if tamper == "secret" else SECRET)
    before = _event_rows(h)
    base = h.url.split("/hooks/")[0]
    answer = httpx.post(base + path, content=body, headers=headers)
    assert answer.status_code == status
    assert answer.json()["error"] == error
    assert answer.json()["reason"]
    assert SECRET not in answer.text
    assert _event_rows(h) == before


def test_endless_body_is_cut_off_at_the_cap_while_streaming(hooked):
    h = hooked

    def chunks() -> Iterator[bytes]:
        # A generator body goes out chunked, with no Content-Length: the intake must count.
        for _ in range(64):
            yield b" " * (64 * 1024)

    before = _event_rows(h)
    try:
        answer = httpx.post(h.url, content=chunks(), headers=_signed(b""))
    except httpx.HTTPError:
        # The server may close the connection before the client finished sending.
        answer = None
    if answer is not None:
        assert answer.status_code == 413
        assert answer.json()["error"] == "too_large"
    assert _event_rows(h) == before


def test_declared_oversize_is_refused_before_reading(hooked):
    h = hooked
    body = b" " * (h.intake.max_body_bytes + 1)
    answer = httpx.post(h.url, content=body, headers=_signed(body))
    assert answer.status_code == 413
    assert answer.json() == {
        "error": "too_large",
        "reason": f"body larger than {h.intake.max_body_bytes} bytes",
    }


def test_business_event_comes_through_the_same_intake_and_is_stored(hooked):
    h = hooked
    with running_d365() as sim:
        registered = httpx.post(
            f"{sim.base_url}/_sim/business-events",
            json={"url": h.url.replace("/crm", "/fo"), "secret": SECRET},
            verify=ssl.create_default_context(cafile=str(sim.verify)),
        )
        assert registered.status_code == 201
        erp = connect(sim)
        try:
            created = h.world.run(erp.create("CustomersV3", {"CustomerGroupId": "10"}, "usmf/EV-1"))
        finally:
            h.world.run(erp.aclose())
        [result] = wait_for(lambda: h.intake.for_key(created.key), "the business event")
    assert result.enqueued == ()  # no flow of this tenant reads D365 customers
    with h.world.sessions() as session:
        query = IntakeEvent.scoped(h.world.inst.tenant_id)
        row = session.scalars(query.where(IntakeEvent.record_key == str(created.key))).one()
        assert row.status is IntakeStatus.DONE
