"""Jobs: the durable workflows that run record jobs and polls, with retries and dead letters.

``sync_record`` wraps one :class:`~syncloom.engine.record_job.RecordJob` run in a durable
retry loop: each attempt is a checkpointed step; a transient failure sleeps durably (minutes
to hours, never sooner than the server asked) and tries again for up to 72 hours; a permanent
failure, or retries spent, parks the record in the dead-letter queue; an ambiguous match or a
manual-review conflict becomes a review item. Record jobs run on one partitioned queue keyed
by record, so two jobs for the same record never overlap, on any number of workers.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from syncloom.connectors.base import Record, RecordKey
from syncloom.engine import intake_events
from syncloom.engine.installation import Installation
from syncloom.engine.poll_guard import PollGuard
from syncloom.engine.poller import Tx
from syncloom.engine.retry import RetryAction
from syncloom.engine.runtime import (
    Runtime,
    current_workflow_id,
    durable_step,
    durable_workflow,
    sleep,
)
from syncloom.engine.runtime.ids import workflow_id_for
from syncloom.engine.watermarks import version_of
from syncloom.errors import ConfigError, TransientError
from syncloom.log import get_logger
from syncloom.store.models import ReviewItem, ReviewStatus, Run, RunKind, RunStatus

_log = get_logger(__name__)

__all__ = [
    "RECORD_QUEUE",
    "enqueue_record",
    "install",
    "installation",
    "poll_flow",
    "replay_dead_letter",
    "scheduled_poll",
    "sync_record",
]

RECORD_QUEUE = "records"
_INSTALLATIONS: dict[int, Installation] = {}


def install(inst: Installation, runtime: Runtime) -> None:
    """Make ``inst`` the live installation of its tenant in this process, with its pollers."""
    _INSTALLATIONS[inst.tenant_id] = inst

    def enqueue(tx: Tx, flow: str, record: Record) -> str:
        return enqueue_record(tx, inst, flow, record.key, version_of(record))

    inst.attach(runtime.transaction, enqueue)


def installation(tenant_id: int) -> Installation:
    """The live installation of a tenant.

    Raises:
        ConfigError: the tenant has no installation in this process.
    """
    inst = _INSTALLATIONS.get(tenant_id)
    if inst is None:
        raise ConfigError(f"tenant {tenant_id} has no live installation in this process")
    return inst


def job_id(tenant_id: int, flow: str, key: RecordKey, version: str | None) -> str:
    """One workflow id per tenant, flow and record version: a repeated hint joins its job."""
    return workflow_id_for(f"{tenant_id}|{flow}|{key}", version or uuid.uuid4().hex, kind="sync")


def enqueue_record(
    tx: Tx, inst: Installation, flow: str, key: RecordKey, version: str | None
) -> str:
    """Enqueue the record job of ``key`` inside ``tx`` (the caller's transaction)."""
    return tx.enqueue(
        RECORD_QUEUE,
        sync_record,
        inst.tenant_id,
        flow,
        str(key),
        None,
        partition_key=inst.partition_key(flow, key),
        workflow_id=job_id(inst.tenant_id, flow, key, version),
    )


@durable_workflow(name="syncloom.sync_record")
def sync_record(
    tenant_id: int, flow: str, key: str, overrides: dict[str, Any] | None = None
) -> dict[str, Any]:
    """Sync one record until it succeeds, is parked as a dead letter, or waits for review."""
    attempt = 0
    first_failure: float | None = None
    while True:
        attempt += 1
        result = _attempt(tenant_id, flow, key, overrides, attempt, first_failure)
        if result["status"] == "ok":
            return result  # the attempt closed the hints it covered
        first_failure = result["first_failure"]
        if result["action"] == RetryAction.RETRY.value:
            sleep(float(result["delay_s"]))
            continue
        _park(tenant_id, flow, key, overrides, attempt, result)
        # An attempt checkpointed before attempts carried their start: its first failure.
        started_at = result.get("started_at", result["first_failure"])
        _settle_hints(tenant_id, key, started_at, _outcome(result))
        return result


@durable_step(name="syncloom.sync_record.attempt")
def _attempt(
    tenant_id: int,
    flow: str,
    key: str,
    overrides: dict[str, Any] | None,
    attempt: int,
    first_failure: float | None,
) -> dict[str, Any]:
    inst = installation(tenant_id)
    job = inst.unit(flow).job
    now = inst.clock.now_utc().timestamp()
    try:
        outcome = inst.bridge.run(job.run(RecordKey.parse(key), overrides, force=bool(overrides)))
    except Exception as exc:  # every failure becomes a decision: retry, dead letter or review
        first = first_failure if first_failure is not None else now
        decision = inst.retry.decide(exc, attempt=attempt, elapsed_s=now - first)
        return {
            "status": "error",
            "action": decision.action.value,
            "delay_s": decision.delay_s,
            "reason": decision.reason,
            "error_class": type(exc).__name__,
            "error": str(exc),
            "first_failure": first,
            "vendor_code": getattr(exc, "vendor_code", None),
            "record_key": getattr(exc, "record_key", None),
            "started_at": now,
        }
    # Closing the hints inside the attempt saves a checkpoint and a transaction on every job;
    # an attempt run again after a crash closes nothing new.
    _close_hints(inst, key, now, None)
    return {"status": "ok", **outcome.as_dict(), "started_at": now}


def _outcome(result: dict[str, Any]) -> str:
    # The error class and where the record went; the vendor's text stays in the sealed log.
    parked = "review" if result["action"] == RetryAction.REVIEW.value else "dead letter"
    return f"{result['error_class']}: parked for {parked}"


@durable_step(name="syncloom.sync_record.settle_hints")
def _settle_hints(tenant_id: int, key: str, started_at: float, outcome: str | None) -> None:
    """Close the stored hints this job covered: done, or failed with ``outcome``."""
    _close_hints(installation(tenant_id), key, started_at, outcome)


def _close_hints(inst: Installation, key: str, started_at: float, outcome: str | None) -> None:
    with inst.sessions.begin() as session:
        intake_events.settle(
            session,
            inst.tenant_id,
            key,
            covered_before=datetime.fromtimestamp(started_at, UTC),
            now=inst.clock.now_utc(),
            outcome=outcome,
        )


@durable_step(name="syncloom.sync_record.park")
def _park(
    tenant_id: int,
    flow: str,
    key: str,
    overrides: dict[str, Any] | None,
    attempts: int,
    result: dict[str, Any],
) -> None:
    inst = installation(tenant_id)
    text = f"{result['error_class']}: {result['error']}"
    if result["action"] == RetryAction.REVIEW.value:
        _review(inst, flow, result.get("record_key") or key, text, attempts)
        return
    payload: dict[str, Any] = {"key": key, "reason": result.get("reason")}
    if result.get("vendor_code"):
        payload["vendor_code"] = result["vendor_code"]
    if overrides:
        payload["overrides"] = overrides
    inst.dead_letters.park(
        flow=flow,
        record_key=key,
        payload=payload,
        error_class=result["error_class"],
        error_text=result["error"],
        attempts=attempts,
    )
    with inst.sessions.begin() as session:
        inst.log.add(
            session, flow=flow, record_key=key, action="failed", error=text, attempt=attempts
        )


def _review(inst: Installation, flow: str, key: str, text: str, attempts: int) -> None:
    # One open item per record: the hint from either side, or a newer version of the same
    # conflict, joins the item already waiting instead of asking the person twice.
    with inst.sessions.begin() as session:
        waiting = (
            session.query(ReviewItem)
            .filter_by(tenant_id=inst.tenant_id, flow=flow, record_key=key)
            .filter(ReviewItem.status == ReviewStatus.OPEN)
            .first()
        )
        if waiting is None:
            session.add(
                ReviewItem(
                    tenant_id=inst.tenant_id,
                    flow=flow,
                    record_key=key,
                    kind="conflict",
                    details={"error": text},
                )
            )
        inst.log.add(
            session, flow=flow, record_key=key, action="review", error=text, attempt=attempts
        )


@durable_workflow(name="syncloom.poll_flow")
def poll_flow(tenant_id: int, flow: str) -> dict[str, Any]:
    """Poll every side of one flow once and enqueue what changed."""
    return _poll(tenant_id, flow, RunKind.UTILITY.value)


@durable_step(name="syncloom.poll_flow.poll")
def _poll(tenant_id: int, flow: str, kind: str = RunKind.SCHEDULED.value) -> dict[str, Any]:
    inst = installation(tenant_id)
    with inst.sessions.begin() as session:
        run = Run(
            tenant_id=tenant_id,
            flow=flow,
            kind=RunKind(kind),
            status=RunStatus.RUNNING,
            workflow_id=current_workflow_id(),
        )
        session.add(run)
        session.flush()
        run_id = run.id
    try:
        reports = inst.bridge.run(inst.unit(flow).poll())
    except Exception as exc:  # the run row says it failed; the error still propagates
        _finish_run(inst, run_id, RunStatus.FAILED, {}, f"{type(exc).__name__}: {exc}")
        raise
    result = {
        "pages": sum(r.pages for r in reports),
        "read": sum(r.read for r in reports),
        "enqueued": sum(r.enqueued for r in reports),
        "job_ids": [job for r in reports for job in r.job_ids],
    }
    waiting = [r.resumes_at for r in reports if r.resumes_at is not None]
    if waiting:  # outside every batch window: say when the flow reads again
        result["resumes_at"] = min(waiting).isoformat()
    counts = {k: v for k, v in result.items() if k != "job_ids"}
    _finish_run(inst, run_id, RunStatus.SUCCEEDED, counts, None)
    return result


def _finish_run(
    inst: Installation, run_id: int, status: RunStatus, counts: dict[str, Any], error: str | None
) -> None:
    with inst.sessions.begin() as session:
        run = session.get(Run, run_id)
        if run is not None:
            run.status, run.counts, run.error = status, counts, error
            run.finished_at = inst.clock.now_utc()


@durable_workflow(name="syncloom.scheduled_poll")
def scheduled_poll(fire_time: datetime, context: str) -> None:
    """A flow's cron schedule fired: poll it (``context`` is ``"<tenant id>:<flow>"``)."""
    del fire_time  # the watermark, not the fire time, says where to read from
    tenant, _, flow = context.partition(":")
    tenant_id = int(tenant)
    guard = PollGuard(installation(tenant_id).sessions.kw["bind"])
    with guard.hold(tenant_id, flow) as polling:
        if not polling:
            # The last fire's poll still reads (a large first load, a slow source): a second
            # poll from the same watermark would only read the same pages again.
            _log.info("poll_skipped", tenant_id=tenant_id, flow=flow, reason="still polling")
            return
        try:
            _poll(tenant_id, flow)
        except TransientError as exc:
            # Throttled or unavailable: the run row says why, and the next fire reads from the
            # same watermark, so nothing is lost by waiting for it instead of failing loudly.
            _log.warning("poll_deferred", tenant_id=tenant_id, flow=flow, error=str(exc))


def replay_dead_letter(runtime: Runtime, tenant_id: int, letter_id: int) -> str:
    """Replay one dead letter: mark it replayed and run its record again, with its overrides.

    Returns:
        The workflow id of the new run.

    Raises:
        ConfigError: no such dead letter in this tenant.
    """
    inst = installation(tenant_id)
    letter = inst.dead_letters.mark_replayed(letter_id)
    overrides = letter.payload.get("overrides") or None
    key = RecordKey.parse(letter.record_key)
    workflow_id = f"replay:{letter_id}:{uuid.uuid4().hex}"
    runtime.enqueue(
        RECORD_QUEUE,
        sync_record,
        tenant_id,
        letter.flow,
        letter.record_key,
        overrides,
        partition_key=inst.partition_key(letter.flow, key),
        workflow_id=workflow_id,
    )
    return workflow_id
