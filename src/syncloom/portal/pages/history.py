"""Run and record-log pages, and one record's history with field-level diffs and lineage."""

from __future__ import annotations

from typing import Any, TypeVar

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from pydantic import BaseModel

from syncloom.portal import history
from syncloom.portal.auth import Viewer, deps_of
from syncloom.portal.forms import parse
from syncloom.portal.history import RecordFilter, RunFilter
from syncloom.portal.problems import Invalid
from syncloom.portal.rendering import render
from syncloom.store.models import RunKind, RunStatus

router = APIRouter(include_in_schema=False)


M = TypeVar("M", bound=BaseModel)


def _query(request: Request, model: type[M]) -> tuple[M, dict[str, str]]:
    raw: dict[str, Any] = {k: v for k, v in request.query_params.items() if v != ""}
    try:
        return parse(model, raw), {}
    except Invalid as exc:
        return model(), exc.by_field()


@router.get("/runs", response_class=HTMLResponse)
def runs_page(request: Request, me: Viewer) -> Response:
    """Runs with filters."""
    query, errors = _query(request, RunFilter)
    with deps_of(request).sessions() as session:
        rows = history.list_runs(session, me.tenant_id, query)
    return render(
        request,
        "runs.html",
        me,
        runs=rows,
        query=query,
        errors=errors,
        kinds=[str(k) for k in RunKind],
        statuses=[str(s) for s in RunStatus],
    )


@router.get("/records", response_class=HTMLResponse)
def records_page(request: Request, me: Viewer) -> Response:
    """The record log with filters."""
    query, errors = _query(request, RecordFilter)
    deps = deps_of(request)
    with deps.sessions() as session:
        rows = history.list_entries(session, me.tenant_id, query, deps.vault)
    return render(request, "records.html", me, entries=rows, query=query, errors=errors)


@router.get("/records/history", response_class=HTMLResponse)
def record_page(request: Request, me: Viewer, flow: str, record_key: str) -> Response:
    """One record's history, diffs and lineage."""
    deps = deps_of(request)
    with deps.sessions() as session:
        found = history.record_history(
            session, me.tenant_id, flow[:100], record_key[:255], deps.vault
        )
    return render(request, "record.html", me, history=found)
