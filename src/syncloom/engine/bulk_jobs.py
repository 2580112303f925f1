"""Bulk jobs: a BulkLoad as a durable workflow, one step per page.

``bulk_load`` opens a ``runs`` row, then runs one durable step per source page, each returning
the cursor of the next page, and closes the row. If the process dies, the workflow resumes on
the next launch: settled pages return their recorded cursors without running again, and the
page that was in flight runs again under the same run (its reservations and leases are found,
its creates answer "already exists" and are bound). Rerunning a page is safe because a page
settles its links and its checkpoint in one transaction.

Example::

    handle = runtime.start(bulk_load, tenant_id, "accounts", None)
    summary = handle.result()
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from syncloom.engine.bulk import BulkLoad
from syncloom.engine.jobs import installation
from syncloom.engine.runtime import current_workflow_id, durable_step, durable_workflow
from syncloom.store.models import RunStatus

__all__ = ["bulk_load", "loader"]

_LOADS: dict[tuple[int, str, int], BulkLoad] = {}


def loader(tenant_id: int, flow: str, run_id: int) -> BulkLoad:
    """The process's BulkLoad of one run, so its target snapshot is read once per process."""
    key = (tenant_id, flow, run_id)
    if key not in _LOADS:
        _LOADS[key] = BulkLoad.for_flow(installation(tenant_id), flow)
    return _LOADS[key]


@durable_workflow(name="syncloom.bulk_load")
def bulk_load(tenant_id: int, flow: str, since: str | None = None) -> dict[str, Any]:
    """Load one flow (or backfill it from ``since``, ISO 8601 UTC), a durable step per page."""
    run_id = _open(tenant_id, flow, since)
    cursor: str | None = None
    pages = 0
    try:
        while pages == 0 or cursor is not None:
            cursor = _page(tenant_id, flow, run_id, since, cursor)["cursor"]
            pages += 1
    except Exception as exc:  # the run row must say why; the workflow still fails
        _close(tenant_id, flow, run_id, f"{type(exc).__name__}: {exc}")
        raise
    return _close(tenant_id, flow, run_id, None)


@durable_step(name="syncloom.bulk_load.open")
def _open(tenant_id: int, flow: str, since: str | None) -> int:
    load = BulkLoad.for_flow(installation(tenant_id), flow)
    when = datetime.fromisoformat(since) if since else None
    return load.start(since=when, workflow_id=current_workflow_id())


@durable_step(name="syncloom.bulk_load.page")
def _page(
    tenant_id: int, flow: str, run_id: int, since: str | None, cursor: str | None
) -> dict[str, Any]:
    load = loader(tenant_id, flow, run_id)
    when = datetime.fromisoformat(since) if since else None
    outcome = installation(tenant_id).bridge.run(load.run_page(run_id, when, cursor))
    return outcome.as_dict()


@durable_step(name="syncloom.bulk_load.close")
def _close(tenant_id: int, flow: str, run_id: int, error: str | None) -> dict[str, Any]:
    load = _LOADS.pop((tenant_id, flow, run_id), None) or BulkLoad.for_flow(
        installation(tenant_id), flow
    )
    status = RunStatus.FAILED if error else RunStatus.SUCCEEDED
    run = load.finish(run_id, status, error)
    return {"run_id": run_id, "status": run.status.value, "counts": run.counts}
