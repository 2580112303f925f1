"""REST: runs and the record log, and one record's history with its lineage."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request

from syncloom.portal import history
from syncloom.portal.auth import Viewer, deps_of
from syncloom.portal.history import LogEntryView, RecordFilter, RecordHistory, RunFilter, RunView
from syncloom.portal.params import RowId

router = APIRouter(tags=["runs and record log"])


@router.get("/runs")
def runs(request: Request, me: Viewer, query: Annotated[RunFilter, Query()]) -> list[RunView]:
    """Runs, newest first, filtered by flow, kind and status."""
    with deps_of(request).sessions() as session:
        return history.list_runs(session, me.tenant_id, query)


@router.get("/runs/{run_id}")
def run(request: Request, me: Viewer, run_id: RowId) -> RunView:
    """One run with its counts."""
    with deps_of(request).sessions() as session:
        return history.find_run(session, me.tenant_id, run_id)


@router.get("/records")
def records(
    request: Request, me: Viewer, query: Annotated[RecordFilter, Query()]
) -> list[LogEntryView]:
    """Record-log entries, newest first, with field-level diffs."""
    deps = deps_of(request)
    with deps.sessions() as session:
        return history.list_entries(session, me.tenant_id, query, deps.vault)


@router.get("/records/history")
def record(
    request: Request,
    me: Viewer,
    flow: Annotated[str, Query(max_length=100)],
    record_key: Annotated[str, Query(max_length=255)],
) -> RecordHistory:
    """One record's history, identity links, runs and dead letters."""
    deps = deps_of(request)
    with deps.sessions() as session:
        return history.record_history(session, me.tenant_id, flow, record_key, deps.vault)
