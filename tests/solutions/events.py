"""Events for Solution tests: a change reaches its record jobs the way it does in production.

A test changes a record in a simulator, then lets the change arrive through the real
:class:`~syncloom.engine.poller.Poller` (a poll of the flow's sides from its Watermark) or
through the system's own push: Creatio's signal process and F&O's business events POST,
signed, to the real :class:`~syncloom.engine.intake.Intake` behind its HTTP router. Both
enqueue inside a real transaction on the world's database; :class:`JobQueue` stands in for
the durable queue only (a repeated workflow id joins the job already run, as the Runtime's
does), and runs the enqueued record jobs when the test asks.
"""

from __future__ import annotations

import ssl
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, TypeVar

import httpx
import sqlalchemy as sa
from fastapi import FastAPI

from syncloom.connectors.base import Record, RecordKey
from syncloom.connectors.creatio.webhooks import CreatioWebhookReceiver
from syncloom.connectors.d365.webhooks import D365WebhookReceiver
from syncloom.engine import jobs
from syncloom.engine.clock import SystemClock
from syncloom.engine.intake import Intake, IntakeResult, WebhookEndpoint
from syncloom.engine.intake_api import intake_router
from syncloom.engine.poller import Tx
from syncloom.engine.record_job import JobOutcome
from syncloom.engine.watermarks import version_of
from syncloom.simulators.common.server import SimulatorServer
from tests.solutions.world import World

SECRET = "events-hook-secret"
DEADLINE_S = 30.0
T = TypeVar("T")
RECEIVERS = {"creatio": CreatioWebhookReceiver, "d365": D365WebhookReceiver}


@dataclass(frozen=True)
class Ran:
    """One record job the queue ran: its flow, the hinted key, and what it did or raised."""

    flow: str
    key: str
    outcome: JobOutcome | None
    error: Exception | None

    @property
    def action(self) -> str:
        return self.outcome.action if self.outcome else f"error: {self.error!r}"


@dataclass
class _Tx:
    """A real transaction whose enqueue keeps the record job for the queue."""

    connection: sa.Connection
    jobs: dict[str, tuple[str, str]] = field(default_factory=dict)

    def enqueue(self, queue: str, fn: object, *args: Any, **options: Any) -> str:
        _tenant, flow, key, _overrides = args
        workflow_id = options.get("workflow_id") or uuid.uuid4().hex
        self.jobs.setdefault(workflow_id, (flow, key))
        return str(workflow_id)


class JobQueue:
    """The durable queue's part: jobs kept only when their transaction commits, run on demand."""

    def __init__(self, engine: sa.Engine) -> None:
        self._engine = engine
        self._lock = threading.Lock()
        self.jobs: dict[str, tuple[str, str]] = {}
        self.ran: dict[str, Ran] = {}

    @contextmanager
    def transaction(self) -> Iterator[_Tx]:
        with self._engine.begin() as connection:
            tx = _Tx(connection)
            yield tx
        with self._lock:
            for workflow_id, job in tx.jobs.items():
                self.jobs.setdefault(workflow_id, job)

    def run(self, w: World, workflow_ids: list[str]) -> list[Ran]:
        """Run each job once, in order; a job already run is joined, not run again."""
        ran = []
        for workflow_id in workflow_ids:
            if workflow_id not in self.ran:
                flow, key = self.jobs[workflow_id]
                self.ran[workflow_id] = _run(w, flow, key)
            ran.append(self.ran[workflow_id])
        return ran


def _run(w: World, flow: str, key: str) -> Ran:
    try:
        return Ran(flow, key, w.sync(flow, RecordKey.parse(key)), None)
    except Exception as exc:  # the test asserts on it; the durable job would retry it
        return Ran(flow, key, None, exc)


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

    def since(self, mark: int) -> list[IntakeResult]:
        with self._lock:
            return self.results[mark:]


@dataclass
class Events:
    """How a test delivers a change: by poll, or by the system's push to the intake."""

    w: World
    queue: JobQueue
    intake: RecordingIntake

    def mark(self) -> int:
        """A point to wait for pushes after (take it before the change)."""
        return len(self.intake.since(0))

    def quiet(self, *flows: str) -> None:
        """Move the flows' Watermarks past everything there is now, running nothing."""
        for flow in flows:
            for report in self.w.run(self.w.inst.unit(flow).poll()):
                self.queue.ran.update({j: Ran(flow, "", None, None) for j in report.job_ids})

    def poll(self, *flows: str) -> list[Ran]:
        """Poll the flows' sides and run the jobs the polls enqueued."""
        ran = []
        for flow in flows:
            reports = self.w.run(self.w.inst.unit(flow).poll())
            ran += self.queue.run(self.w, [j for r in reports for j in r.job_ids])
        return ran

    def pushed(self, key: RecordKey, mark: int) -> list[Ran]:
        """Wait for a push naming ``key`` after ``mark``; run the jobs of every push till then.

        Pushes arrive in the order the system sent them, so the jobs run in that order too.
        """
        return self.queue.run(self.w, self.pushed_jobs(key, mark))

    def pushed_jobs(self, key: RecordKey, mark: int) -> list[str]:
        """The workflow ids :meth:`pushed` would run, in order, without running them."""
        results = wait_for(lambda: _through(self.intake.since(mark), key), f"a push naming {key}")
        return [j for r in results for j in r.enqueued]

    def settle(self) -> None:
        """Wait until each simulator has delivered every push it queued (echoes included)."""
        creatio = self.w.simulators["creatio"].app.notifier.counts
        wait_for(
            lambda: creatio["queued"] == creatio["delivered"] + creatio["failed"],
            "Creatio's notices to be delivered",
        )
        if "d365" in self.w.simulators:
            d365 = self.w.simulators["d365"].app.events
            wait_for(lambda: not d365._tasks, "F&O's business events to be delivered")

    def deliver(self, how: str, key: RecordKey, mark: int, *flows: str) -> list[Ran]:
        """``how`` is ``poll`` (the flows are polled) or ``push`` (the system's own notice)."""
        return self.poll(*flows) if how == "poll" else self.pushed(key, mark)


def _through(results: list[IntakeResult], key: RecordKey) -> list[IntakeResult]:
    naming = [n for n, r in enumerate(results) if any(h.key == key for h in r.hints)]
    return results[: naming[-1] + 1] if naming else []


def ran(runs: list[Ran], flow: str, key: RecordKey | None = None) -> Ran:
    """The job of ``flow`` (for ``key``, if given) among ``runs``; fails if there is none."""
    found = [r for r in runs if r.flow == flow and (key is None or r.key == str(key))]
    assert found, f"no job of {flow} for {key} among {[(r.flow, r.key) for r in runs]}"
    errors = [r for r in found if r.error is not None]
    assert not errors, errors[0].error
    return found[-1]


def wait_for(probe: Callable[[], T | None], what: str, timeout_s: float = DEADLINE_S) -> T:
    """Poll ``probe`` until it returns something truthy, or fail at the deadline."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        value = probe()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"timed out after {timeout_s} s waiting for {what}")


@contextmanager
def events(w: World) -> Iterator[Events]:
    """Attach pollers and an intake to ``w``; register the intake with each simulator."""
    engine = w.sessions.kw["bind"]
    queue = JobQueue(engine)
    inst = w.inst

    def enqueue(tx: Tx, flow: str, record: Record) -> str:
        return jobs.enqueue_record(tx, inst, flow, record.key, version_of(record))

    inst.attach(queue.transaction, enqueue)
    endpoints = {
        inst.connections[name].connection_id: WebhookEndpoint(receiver(), SECRET)
        for name, receiver in RECEIVERS.items()
        if name in inst.connections
    }
    intake = RecordingIntake(
        transaction=queue.transaction,
        sessions=w.sessions,
        endpoints=endpoints,
        clock=SystemClock(),
        installation=lambda tenant_id: inst,
    )
    app = FastAPI()
    app.include_router(intake_router(intake))
    with SimulatorServer(app) as server:
        _subscribe(w, f"{server.base_url}/hooks/acme")
        yield Events(w, queue, intake)


def _subscribe(w: World, hooks: str) -> None:
    creatio = w.simulators["creatio"].base_url
    body = {"url": f"{hooks}/creatio", "secret": SECRET}
    httpx.post(f"{creatio}/_sim/webhooks", json=body).raise_for_status()
    if "d365" in w.simulators:
        d365 = w.simulators["d365"].base_url
        verify = ssl.create_default_context(cafile=w.ca_file)
        body = {"url": f"{hooks}/d365", "secret": SECRET}
        httpx.post(f"{d365}/_sim/business-events", json=body, verify=verify).raise_for_status()


def sim_action(w: World, name: str, body: dict[str, Any]) -> dict[str, Any]:
    """Run an F&O process the simulator offers under ``/_sim/actions`` (post, confirm...)."""
    server = w.simulators["d365"]
    context = ssl.create_default_context(cafile=w.ca_file)
    with httpx.Client(base_url=server.base_url, verify=context) as client:
        response = client.post(f"/_sim/actions/{name}", json=body)
    response.raise_for_status()
    result: dict[str, Any] = response.json()
    return result


def new_order(w: Any, status: str, quantity: int, prefix: str = "EV") -> str:
    """A Creatio Order of seeded account 5 in ``status``, with one line of product P00003."""
    from decimal import Decimal

    from syncloom.simulators.creatio.seeding import seed_id

    ident = str(uuid.uuid4())
    product = w.get("creatio", "Product", seed_id("Product", "P00003"))
    order = {
        "Number": f"{prefix}-{ident[:6]}",
        "Date": "2026-11-22T00:00:00Z",
        "AccountId": seed_id("Account", 5),
        "StatusId": status,
        "CurrencyId": seed_id("Currency", "USD"),
        "CurrencyRate": Decimal(1),
        "UsrLegalEntity": "usmf",
    }
    w.run(w.crm.create("Order", order, ident))
    price = product.values["Price"]
    line = {
        "OrderId": ident,
        "ProductId": product.key.id,
        "Quantity": Decimal(quantity),
        "Price": price,
        "Amount": price * quantity,
    }
    w.run(w.crm.create("OrderProduct", line, str(uuid.uuid4())))
    return ident
