"""Actions: what an operator asks of the engine (run now, dry run, backfill, replay) as queued runs.

Why queue an action instead of running it where it was asked? Scaled out, the portal runs in
processes with no flows loaded and no connectors open; only workers can poll, plan or sync.
So the portal enqueues one durable run per action on the ``actions`` queue in the shared
database, and the first worker with a free slot runs it, exactly as it runs record jobs. Each
run's id names its tenant, so the portal shows a tenant only its own actions.
"""

from __future__ import annotations

import uuid
from enum import StrEnum
from typing import Any

from syncloom.connectors.base import RecordKey
from syncloom.engine import jobs
from syncloom.engine.bulk_jobs import bulk_load
from syncloom.engine.runtime import (
    QueueSpec,
    current_workflow_id,
    durable_step,
    durable_workflow,
    enqueue_child,
)

__all__ = [
    "ACTION_QUEUE",
    "ACTION_QUEUE_SPEC",
    "ActionKind",
    "action_id",
    "bulk_load",
    "dry_run",
    "is_action_of",
    "replay",
]

ACTION_QUEUE = "actions"
# Actions are few and some are long (a backfill pages through a whole entity): a few at once
# per worker leaves the record jobs their slots. A person clicked for each, so a half-second
# wait for a worker to notice is nothing; polling ten times a second cost a busy worker about
# 4 % of its CPU (profiled under 20 webhooks a second).
ACTION_QUEUE_SPEC = QueueSpec(
    ACTION_QUEUE, worker_concurrency=4, partitioned=False, polling_interval_s=0.5
)


class ActionKind(StrEnum):
    """The kinds of action, as they appear in a run's id."""

    RUN_NOW = "run"
    DRY_RUN = "dry-run"
    BACKFILL = "backfill"
    REPLAY = "replay"


def action_id(tenant_id: int, kind: ActionKind) -> str:
    """A new run id for one action of one tenant: ``action:<tenant>:<kind>:<random>``."""
    return f"action:{tenant_id}:{kind}:{uuid.uuid4().hex}"


def is_action_of(tenant_id: int, workflow_id: str) -> bool:
    """True when ``workflow_id`` names an action of ``tenant_id`` (and no other tenant's)."""
    return workflow_id.startswith(f"action:{tenant_id}:")


@durable_workflow(name="syncloom.action.dry_run")
def dry_run(tenant_id: int, flow: str) -> dict[str, Any]:
    """What a load of ``flow`` would do, read and planned by a worker, writing nothing."""
    return _plan(tenant_id, flow)


@durable_step(name="syncloom.action.dry_run.plan")
def _plan(tenant_id: int, flow: str) -> dict[str, Any]:
    from syncloom.engine.bulk import BulkLoad

    inst = jobs.installation(tenant_id)
    report = inst.bridge.run(BulkLoad.for_flow(inst, flow).dry_run())
    summary: dict[str, Any] = report.as_dict()
    return summary


@durable_workflow(name="syncloom.action.replay")
def replay(tenant_id: int, letter_ids: list[int]) -> list[str]:
    """Replay dead letters: mark each replayed and enqueue its record's job; returns the jobs."""
    parent = current_workflow_id() or uuid.uuid4().hex
    started = []
    for letter_id in letter_ids:
        letter = _mark_replayed(tenant_id, letter_id)
        started.append(
            enqueue_child(
                jobs.RECORD_QUEUE,
                jobs.sync_record,
                tenant_id,
                letter["flow"],
                letter["record_key"],
                letter["overrides"],
                partition_key=letter["partition_key"],
                workflow_id=f"replay:{letter_id}:{parent}",
            )
        )
    return started


@durable_step(name="syncloom.action.replay.mark")
def _mark_replayed(tenant_id: int, letter_id: int) -> dict[str, Any]:
    inst = jobs.installation(tenant_id)
    letter = inst.dead_letters.mark_replayed(letter_id)
    key = RecordKey.parse(letter.record_key)
    return {
        "flow": letter.flow,
        "record_key": letter.record_key,
        "overrides": letter.payload.get("overrides") or None,
        "partition_key": inst.partition_key(letter.flow, key),
    }
